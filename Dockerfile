# syntax=docker/dockerfile:1
# deliveryhub: one image, every module. `--modules` picks the ones a container runs, so the same
# image is the single-process shape and each Deployment of the split one (k8s/).
#
# The build stage runs what the README and CI run, on the same Debian 12: scripts/install-deps.sh
# (its `build` packages) and the CMake preset `release`, the README's build command. The runtime
# stage is debian:12-slim with the binary, the Debian packages of the shared libraries it loads and
# CA certificates, nothing else. tests/deploy/test_dockerfile.py keeps both true (same script and
# preset as CI and the README; every library that ldd resolves for the binary comes from a package
# installed here; non-root; OCI labels; no `latest`; scripts/image-size.py's estimate <= 100 MB).
# No Docker engine runs on the development machines: .github/workflows/ci-cd.yml builds and pushes
# the image.
#
# Configuration: flags, or their environment twins DELIVERYHUB_<FLAG> (`deliveryhub --help`), or a
# file given by --config / DELIVERYHUB_CONFIG. Nothing is baked in but the listen address below.
#
# Read-only root filesystem: the process writes only where its flags point. The default database
# is SQLite at ./data/deliveryhub.db (./data is /var/lib/deliveryhub/data, owned by the image's
# user), and without --jwt-key-file a development signing key is generated there too. Kubernetes
# runs it with readOnlyRootFilesystem: --database postgresql://…, --jwt-key-file from a mounted
# Secret, and an emptyDir on /tmp; nothing else is written.

FROM debian:12-slim AS build
# The commit that /version reports: .git is not in the build context (.dockerignore), so CMake's
# `git rev-parse` finds none; src/core/CMakeLists.txt falls back to this variable.
ARG REVISION=unknown
ENV DELIVERYHUB_GIT_COMMIT=${REVISION}
WORKDIR /src
# The package layer first: it is rebuilt only when the package list changes.
COPY scripts/install-deps.sh scripts/install-deps.sh
RUN scripts/install-deps.sh build
COPY . .
RUN cmake --preset release && cmake --build --preset release
# No symbols at runtime (nothing reads them: no stack traces); 8.4 → 5.4 MB, and the image within
# its 100 MB budget (scripts/image.sh measures it).
RUN strip --strip-unneeded build/release/src/app/deliveryhub

FROM debian:12-slim
ARG VERSION=0.1.0
ARG REVISION=unknown
ARG CREATED=unknown
ARG SOURCE=unknown
LABEL org.opencontainers.image.title="deliveryhub" \
      org.opencontainers.image.description="Delivery back office: a C++20 modular monolith (customers, orders, delivery, payments, incidents); --modules picks the modules a container runs" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.created="${CREATED}" \
      org.opencontainers.image.source="${SOURCE}" \
      org.opencontainers.image.base.name="docker.io/library/debian:12-slim"

# The packages that own the libraries the binary links (readelf -d: NEEDED); apt brings their
# dependencies (libpq5 and its Kerberos/LDAP/SASL libraries for libpqxx). libc6, libgcc-s1 and
# libstdc++6 are in the base image already and listed for completeness.
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      ca-certificates \
      libfmt9 \
      libgcc-s1 \
      libpqxx-6.4 \
      libprometheus-cpp-core1.0 \
      librabbitmq4 \
      libsodium23 \
      libspdlog1.10 \
      libsqlite3-0 \
      libssl3 \
      libstdc++6 \
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin /var/log/apt /var/log/dpkg.log \
      /var/cache/debconf/*-old /var/lib/dpkg/*-old

RUN groupadd --system --gid 10001 deliveryhub \
 && useradd --system --uid 10001 --gid 10001 --home-dir /var/lib/deliveryhub --no-create-home \
      --shell /usr/sbin/nologin deliveryhub \
 && install -d -o 10001 -g 10001 -m 0750 /var/lib/deliveryhub /var/lib/deliveryhub/data

COPY --from=build /src/build/release/src/app/deliveryhub /usr/local/bin/deliveryhub

WORKDIR /var/lib/deliveryhub
USER 10001:10001
EXPOSE 8080
# SIGTERM drains: /readyz turns 503 at once, in-flight requests get --shutdown-grace (10 s).
STOPSIGNAL SIGTERM
ENTRYPOINT ["deliveryhub"]
CMD ["serve", "--listen", "0.0.0.0:8080"]
