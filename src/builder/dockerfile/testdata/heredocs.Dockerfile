FROM busybox
RUN <<EOF
echo "hello $USER"
  indented
EOF
RUN <<-EOT
	echo tabs stripped
		two tabs
	EOT
RUN <<"EOF"
echo "$NOT_EXPANDED"
EOF
RUN <<'EOF'
echo '$NOT_EXPANDED'
EOF
RUN <<E"O"F
partly quoted: no expansion
EOF
RUN cat <<FILE1 >/file1 && cat <<FILE2 >/file2
first
FILE1
second
FILE2
RUN <<EOF bash
set -e
EOF
RUN python3 <<PY
print("hi")
PY
RUN 3<<EOF cat /dev/fd/3
with a file descriptor
EOF
RUN << SPACED
space after <<
SPACED
RUN --mount=type=cache,target=/c <<EOF
with a flag
EOF
COPY <<EOF /etc/config
key=$VALUE
EOF
COPY <<-EOF <<'EOT' /dest/
	one
	EOF
two $x
EOT
ADD <<EOF /added
added
EOF
RUN <<EOF
EOF
RUN ["cat", "<<EOF"]
RUN echo "<<EOF"
RUN echo <<
RUN echo done
