FROM busybox
# A backslash as the last character continues the instruction; the next line keeps its indent.
RUN echo one \
    two \
	three
# Blanks after the backslash still continue.
RUN echo a \   
  b
# Empty lines inside a continuation are skipped (Docker warns about them).
RUN echo x \

  y
# An escaped backslash at the end does not continue.
RUN echo trailing \\
RUN echo next
# A continuation-only line.
RUN echo start \
\
  end
LABEL a=1 \
      b=2
# A continuation at the end of the file ends the instruction.
CMD echo last \
