# ARGs before the first FROM are the global build arguments.
ARG BASE=busybox
ARG TAG=latest VARIANT
ARG "QUOTED=a b"
FROM ${BASE}:${TAG} AS first
ARG TAG
RUN echo $TAG
FROM first
ARG LATE=1
