FROM busybox
CMD ["echo", "exec form"]
CMD echo "shell form"
CMD [ "spaced" ,  "json" ]
CMD []
CMD ["unterminated"
CMD ["a" "b"]
CMD ['single', 'quotes']
CMD [oops]
ENTRYPOINT ["/bin/sh", "-c", "echo \"$HOME\" \\ \u00e9"]
ENTRYPOINT exec top -b
RUN ["/bin/echo", "run exec"]
RUN echo run shell
SHELL ["/bin/bash", "-o", "pipefail", "-c"]
VOLUME ["/data", "/logs"]
VOLUME /var/one /var/two
COPY ["src dir/", "dest dir/"]
ADD ["a.tar", "/opt/"]
HEALTHCHECK CMD ["curl", "-f", "http://localhost/"]
HEALTHCHECK CMD curl -f http://localhost/ || exit 1
