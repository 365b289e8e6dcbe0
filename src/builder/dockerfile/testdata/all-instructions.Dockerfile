ARG VERSION=1
FROM busybox:${VERSION} AS base
MAINTAINER Jane Doe <jane@example.com>
LABEL org.opencontainers.image.title="berth test" version=1 "quoted key"=v
LABEL legacy value with spaces
ENV PATH=/opt/bin:$PATH HOME=/home/app
ENV LEGACY one two  three
EXPOSE 80 443/tcp 53/udp 7000-7002
VOLUME /data
WORKDIR /app
USER app:app
STOPSIGNAL SIGTERM
SHELL ["/bin/sh", "-c"]
ADD archive.tar /opt/
COPY . /app
RUN echo build
ONBUILD RUN echo triggered
HEALTHCHECK --interval=5s CMD wget -q -O- http://localhost/ || exit 1
ENTRYPOINT ["/app/entry"]
CMD ["serve"]
from base as second
run echo lower-case keywords
Copy --from=base /app /app
Cmd echo mixed
