# Comment lines start with # after optional blanks.
   # an indented comment
FROM busybox
RUN echo hello # this is not a comment
RUN apt-get update && \
    # a comment inside a continuation is dropped
    apt-get install -y \
  # indented too
    curl
RUN echo '#not a comment'
#
