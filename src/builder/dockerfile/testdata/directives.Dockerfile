#  SYNTAX = docker/dockerfile:1.7
# check=skip=JSONArgsRecommended
# Escape=`
FROM busybox
RUN echo a `
    b
# escape=\
RUN echo still backtick `
    c
