ARG BUILDPLATFORM
FROM --platform=$BUILDPLATFORM golang:1.22 AS build
RUN --mount=type=cache,target=/root/.cache/go-build --mount=type=bind,source=.,target=/src --network=none go build ./...
RUN --security=insecure --device=/dev/fuse true
COPY --from=build --chown=1000:1000 --chmod=0755 --link /out/app /usr/local/bin/app
COPY --link=false --parents --exclude=*.md --exclude=*.txt a b /dst/
COPY --chown="app user" a /b
COPY -- --literal /dst
ADD --checksum=sha256:24454f830cdb571e2c4ad15481119c43b3cafd48dd869a9b2945d1036d1dc68d --keep-git-dir=true --unpack a.tar /x
HEALTHCHECK --interval=30s --timeout=3s --start-period=5s --start-interval=1s --retries=3 CMD curl -f http://localhost/ || exit 1
HEALTHCHECK --interval=1m30s CMD ["true"]
HEALTHCHECK NONE
RUN echo --not-a-flag
