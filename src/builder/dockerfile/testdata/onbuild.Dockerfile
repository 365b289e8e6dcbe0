FROM busybox
ONBUILD RUN echo "from the parent"
ONBUILD COPY --chown=1:1 . /app
ONBUILD run ["lower", "exec"]
ONBUILD RUN <<EOF
echo heredoc trigger
EOF
ONBUILD ENV A=1 B="two words"
ONBUILD HEALTHCHECK NONE
