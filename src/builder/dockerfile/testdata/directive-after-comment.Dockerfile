# A comment before the directive makes it an ordinary comment.
# escape=`
FROM busybox
RUN echo a \
    b
