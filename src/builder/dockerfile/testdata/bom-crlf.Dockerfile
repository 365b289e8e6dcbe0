# syntax=docker/dockerfile:1
FROM busybox
RUN echo a \
  b
RUN <<EOF
line
EOF
CMD ["x"]
