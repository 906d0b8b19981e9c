#!/usr/bin/env bash
# Builds the deliveryhub image from the Dockerfile, unchanged, where no Docker engine runs and no
# container registry can be reached (the development machines), and measures its real size.
#
#   1. The base images. Each FROM of the Dockerfile that names a Debian 12 image (debian:12,
#      debian:12-slim, debian:bookworm, debian:bookworm-slim, with or without docker.io/library/)
#      and is not in local storage yet is made from Debian's packages, with the tool that makes the
#      official ones: debuerreotype (a Debian package; it runs debootstrap --variant=minbase, then
#      the same Docker-specific dpkg/apt configuration, and, for -slim, the same path-excludes of
#      documentation, man pages and locales as debian:12-slim). The packages come from the mirror
#      that apt uses on this machine (`apt-get indextargets`), bookworm + bookworm-updates +
#      bookworm-security, upgraded to today's versions like the official image's point releases.
#      `podman import` stores it as docker.io/library/debian:TAG, the name that buildah resolves
#      the Dockerfile's short name to (/etc/containers/registries.conf.d/shortnames.conf), so the
#      Dockerfile finds it without a pull. On a normal Docker engine the same Dockerfile uses the
#      public debian:12-slim instead (.github/workflows/ci-cd.yml).
#   2. `buildah bud` of the real Dockerfile (both stages: scripts/install-deps.sh build and the
#      release preset inside the build stage), with the build arguments CI passes. --layers keeps
#      each step for the next run; `COPY . .` changes with any file of the context, so a changed
#      tree compiles again. Measured on 2 cores, 2026-12-05: the base 36 s, the build 240 s from
#      nothing (≈ 30 s of it packages), 206-229 s again after a change to the tree.
#   3. The size, two ways: `podman image inspect --format {{.Size}}` (containers/storage's figure:
#      the uncompressed layers as tar streams, so with a 512-byte header per file and padding,
#      ≈ 3 MB more than the files for this image), and the figure `docker image inspect` gives
#      with its overlay2 store (each layer's file and symlink sizes, hard links once, directories
#      not counted), computed from the same layers. The budget (100 MB = 10^6 bytes, as in CI) is
#      judged on the larger, podman's. The base made here measures 74.87 MB the docker way, the
#      size docker-library/repo-info records for the official debian:12-slim (74.83 MB).
#   4. A start: the image's entrypoint run as its user (`--version`, `--help`, `id`) with
#      `buildah run --isolation chroot`.
#   5. With --test: tests/image/test_container.py against it (the single overlay's container
#      with podman: its user, read-only root, probes, the README walkthroughs, SIGTERM; and the
#      default command on SQLite), then the SBOM: sbom/deliveryhub-VERSION.cdx.json made by
#      cdxgen from the image's dpkg database, with the binary and the packages whose headers the
#      build stage compiled into it (ninja's deps log, the build stage's dpkg database), checked
#      (no package for building only installed, each package needed by a runtime package or in
#      the base), and tests/image/last-verified.json,
#      the record that ctest deploy.dockerfile compares the tree with. Commit both. ≈ 1 minute
#      more (the first time also `npm install` of tools/sbom, ≈ 10 s).
#
# This sandbox (a Firecracker VM: root, all capabilities but CAP_SYS_RESOURCE, RLIMIT_NOFILE
# 20000, cgroup v1 with a v2 `unified` hierarchy), and what works in it:
#   - RUN steps: BUILDAH_ISOLATION=chroot (the default here). The OCI runtimes are refused: crun,
#     podman's default, raises RLIMIT_NOFILE and RLIMIT_NPROC over the hard limits (EPERM without
#     CAP_SYS_RESOURCE) and does not support hybrid cgroups. A chroot shares the host's network,
#     which the build stage's apt-get needs.
#   - Running the image as Kubernetes does (read-only root, tmpfs on /tmp and the data directory,
#     uid 10001, SIGTERM) works with runc (Debian package runc) and limits under the hard ones:
#       podman run --runtime runc --ulimit nofile=20000:20000 --ulimit nproc=4096:4096 \
#         --read-only --tmpfs /tmp --tmpfs /var/lib/deliveryhub/data:rw,U \
#         -p 127.0.0.1:18080:8080 -d --name smoke deliveryhub:dev
#     (podman 4.3's --tmpfs takes no uid=; `U` chowns it to the image's user). Then /livez,
#     /readyz, /version answer and `podman stop --time 20 smoke` drains and exits 0.
#   - Storage: containers/storage's default (overlay, as root) works on this kernel; set
#     STORAGE_DRIVER=vfs where overlay mounts are refused (slower, a full copy per layer; the
#     docker-style size is then not printed).
#   - `--pull` of buildah 1.28 takes its value only as --pull=never (`--pull never` makes
#     `never` the context directory).
#   - Root: podman and buildah run as root (the script re-runs itself with sudo); rootless would
#     need /etc/subuid ranges and fuse-overlayfs.
#
# Usage: scripts/image.sh [--test] [--tag NAME] [--bases-only] [--rebuild-bases] [--no-cache] [--budget-mb MB]
#   --test            then test it, make its SBOM and record both (step 5); required before a
#                     change to the Dockerfile, scripts/install-deps.sh or the libraries lands
#   --tag NAME        the image's name (default deliveryhub:dev)
#   --bases-only      make the missing base images and stop
#   --rebuild-bases   remake the Debian base images even if they are present
#   --no-cache        build every step again (buildah bud --no-cache)
#   --budget-mb MB    fail (exit 1) when the image is larger (default 100)
# Environment: DEBIAN_MIRROR, DEBIAN_SECURITY_MIRROR (default: apt's here), BUILDAH_ISOLATION,
# STORAGE_DRIVER, REVISION / VERSION / CREATED / SOURCE (the Dockerfile's build arguments).
# Needs (installed with apt-get when missing): buildah podman debootstrap debuerreotype wget.
set -euo pipefail
cd "$(dirname "$0")/.."

if [[ $(id -u) != 0 ]]; then
  exec sudo --preserve-env=DEBIAN_MIRROR,DEBIAN_SECURITY_MIRROR,BUILDAH_ISOLATION,STORAGE_DRIVER,REVISION,VERSION,CREATED,SOURCE \
    "$0" "$@"
fi

tag=deliveryhub:dev
bases_only=""
rebuild_bases=""
no_cache=()
budget_mb=100
run_tests=""
while (($#)); do
  case "$1" in
    --test) run_tests=1; shift ;;
    --tag) tag="$2"; shift 2 ;;
    --bases-only) bases_only=1; shift ;;
    --rebuild-bases) rebuild_bases=1; shift ;;
    --no-cache) no_cache=(--no-cache); shift ;;
    --budget-mb) budget_mb="$2"; shift 2 ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "image.sh: unknown argument $1 (--help)" >&2; exit 2 ;;
  esac
done

export BUILDAH_ISOLATION="${BUILDAH_ISOLATION:-chroot}"
[[ -z ${STORAGE_DRIVER:-} ]] || export STORAGE_DRIVER

log() { printf '[image.sh %s] %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }
die() { printf 'image.sh: %s\n' "$*" >&2; exit 1; }

# --- Tools ----------------------------------------------------------------------------------------
tools=(buildah podman runc debootstrap debuerreotype wget)  # runc: podman run here (see above)
[[ -z $run_tests ]] || tools+=(postgresql python3-pytest python3-yaml binutils openssl ninja-build)
# Node.js for cdxgen; a machine with node and npm outside dpkg keeps them (as install-deps.sh).
[[ -z $run_tests ]] || { command -v node > /dev/null && command -v npm > /dev/null; } || tools+=(nodejs npm)
missing=()
for p in "${tools[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q '^install ok installed$' || missing+=("$p")
done
if ((${#missing[@]})); then
  log "installing ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# --- The Debian mirrors apt uses here -------------------------------------------------------------
apt_mirror() {  # the repository URI that serves release $1 to this machine's apt, without the /
  # shellcheck disable=SC2016 # apt's own $(FIELD) placeholders, not the shell's
  apt-get indextargets --format '$(REPO_URI) $(RELEASE)' 'Identifier: Packages' 2>/dev/null \
    | awk -v release="$1" '$2 == release { sub(/\/$/, "", $1); print $1; exit }'
}
mirror="${DEBIAN_MIRROR:-$(apt_mirror bookworm)}"
mirror="${mirror:-http://deb.debian.org/debian}"
security_mirror="${DEBIAN_SECURITY_MIRROR:-$(apt_mirror bookworm-security)}"
security_mirror="${security_mirror:-http://deb.debian.org/debian-security}"

# --- Base images ----------------------------------------------------------------------------------
# The images the Dockerfile's FROMs name, less the ones that are earlier stages of it.
from_images() {
  awk 'toupper($1) == "FROM" {
         i = 2; while ($i ~ /^--/) i++
         image = $i
         if (!(tolower(image) in stage)) print image
         if (tolower($(i + 1)) == "as") stage[tolower($(i + 2))] = 1
       }' Dockerfile | sort -u
}

work=""
ctr=""
mounted=()
cleanup() {
  [[ -z $ctr ]] || buildah rm "$ctr" > /dev/null 2>&1 || true
  for image in "${mounted[@]}"; do podman image unmount "$image" > /dev/null 2>&1 || true; done
  [[ -z $work ]] || rm -rf --one-file-system "$work"
}
trap cleanup EXIT

# make_debian_base NAME SLIM: a Debian 12 root file system from Debian's packages, as debian:12
# (SLIM empty) or debian:12-slim (SLIM=1) are made, imported as NAME.
make_debian_base() {
  local name="$1" slim="$2" rootfs started=$SECONDS
  work=$(mktemp -d "${TMPDIR:-/var/tmp}/deliveryhub-base.XXXXXX")
  rootfs="$work/rootfs"
  log "making $name from $mirror (debootstrap --variant=minbase bookworm, via debuerreotype)"
  debuerreotype-init --non-debian --keyring /usr/share/keyrings/debian-archive-keyring.gpg \
    "$rootfs" bookworm "$mirror" > "$work/init.log" 2>&1 \
    || { tail -n 40 "$work/init.log" >&2; die "debuerreotype-init failed (log above)"; }
  debuerreotype-minimizing-config "$rootfs"
  # The sources of the official image (deb822), on the mirrors apt uses here.
  rm -f "$rootfs/etc/apt/sources.list"
  mkdir -p "$rootfs/etc/apt/sources.list.d"
  cat > "$rootfs/etc/apt/sources.list.d/debian.sources" <<EOF
Types: deb
URIs: $mirror
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: $security_mirror
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
  debuerreotype-apt-get "$rootfs" update -qq < /dev/null
  debuerreotype-recalculate-epoch "$rootfs"
  debuerreotype-apt-get "$rootfs" dist-upgrade -yqq < /dev/null > "$work/upgrade.log" 2>&1 \
    || { tail -n 40 "$work/upgrade.log" >&2; die "apt-get dist-upgrade in the new root failed"; }
  [[ -z $slim ]] || debuerreotype-slimify "$rootfs"
  debuerreotype-tar "$rootfs" "$work/rootfs.tar"
  # The official images' configuration: `CMD ["bash"]`, and the PATH docker gives every image.
  podman import --quiet \
    --change 'CMD ["bash"]' \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --message "debuerreotype $(debuerreotype-version 2>/dev/null | awk '{print $2}'), bookworm$([[ -z $slim ]] || echo ' slim'), $mirror" \
    "$work/rootfs.tar" "$name" > /dev/null
  log "made $name in $((SECONDS - started)) s: $(du -sb --apparent-size "$work/rootfs.tar" | cut -f1) bytes of tar"
  rm -rf --one-file-system "$work"
  work=""
}

mapfile -t images < <(from_images)
((${#images[@]})) || die "no FROM in Dockerfile"
for image in "${images[@]}"; do
  short="${image#docker.io/}"
  short="${short#library/}"
  name="docker.io/library/$short"
  case "$short" in
    debian:12|debian:bookworm) slim="" ;;
    debian:12-slim|debian:bookworm-slim) slim=1 ;;
    *)
      podman image exists "$image" || die "FROM $image: not in local storage, and this script makes Debian 12 images only (no registry is reachable here)"
      log "FROM $image: present"
      continue ;;
  esac
  if [[ -z $rebuild_bases ]] && podman image exists "$name"; then
    log "FROM $image: present as $name ($(podman image inspect --format '{{.Size}}' "$name") bytes)"
    continue
  fi
  make_debian_base "$name" "$slim"
done
[[ -z $bases_only ]] || exit 0

# --- The image ------------------------------------------------------------------------------------
version="${VERSION:-$(sed -n 's/^project(deliveryhub VERSION \([0-9.]*\).*/\1/p' CMakeLists.txt)}"
revision="${REVISION:-$(git rev-parse HEAD 2>/dev/null || echo unknown)}"
created="${CREATED:-$(date -u +%Y-%m-%dT%H:%M:%SZ)}"
source="${SOURCE:-$(git config --get remote.origin.url 2>/dev/null || echo unknown)}"
log "buildah bud -t $tag (isolation $BUILDAH_ISOLATION, storage driver $(podman info --format '{{.Store.GraphDriverName}}'))"
started=$SECONDS
buildah bud --isolation "$BUILDAH_ISOLATION" --pull=never --layers "${no_cache[@]}" \
  --build-arg VERSION="$version" \
  --build-arg REVISION="$revision" \
  --build-arg CREATED="$created" \
  --build-arg SOURCE="$source" \
  -f Dockerfile -t "$tag" .
log "built $tag in $((SECONDS - started)) s"

# --- Its size -------------------------------------------------------------------------------------
mb() { awk -v b="$1" 'BEGIN { printf "%9.2f MB", b / 1e6 }'; }
# docker's overlay2 figure: each layer's regular files and symlinks, hard links once, no directories.
docker_style_size() {
  local dirs total=0 layer
  [[ $(podman image inspect --format '{{.GraphDriver.Name}}' "$1") == overlay ]] || { echo ""; return; }
  dirs=$(podman image inspect --format '{{.GraphDriver.Data.UpperDir}}{{with .GraphDriver.Data.LowerDir}}:{{.}}{{end}}' "$1")
  for layer in ${dirs//:/ }; do
    total=$((total + $(find "$layer" \( -type f -o -type l \) -size +0 -printf '%i %s\n' \
      | sort -u -k1,1 | awk '{ s += $2 } END { print s + 0 }')))
  done
  echo "$total"
}
bytes=$(podman image inspect --format '{{.Size}}' "$tag")
docker_bytes=$(docker_style_size "$tag")
echo
echo "Layers of $tag (podman history):"
podman history --format '  {{.Size}}\t{{.CreatedBy}}' "$tag" | cut -c1-150
echo
printf '  %-58s %s\n' "" "podman Size    docker-style"
for image in "${images[@]}"; do
  short="${image#docker.io/}"; short="${short#library/}"
  base_docker=$(docker_style_size "docker.io/library/$short")
  printf '  %-58s %s   %s\n' "base docker.io/library/$short" \
    "$(mb "$(podman image inspect --format '{{.Size}}' "docker.io/library/$short")")" "${base_docker:+$(mb "$base_docker")}"
done
printf '  %-58s %s   %s\n' "image $tag" "$(mb "$bytes")" "${docker_bytes:+$(mb "$docker_bytes")}"

# --- A start, as the image's user -----------------------------------------------------------------
ctr=$(buildah from --pull=never --quiet "$tag")
user=$(podman image inspect --format '{{.Config.User}}' "$tag")
entrypoint=$(podman image inspect --format '{{range .Config.Entrypoint}}{{.}} {{end}}' "$tag")
read -r -a entrypoint <<< "$entrypoint"
echo
echo "Start: buildah run --isolation chroot --user $user $tag -- ${entrypoint[*]} --version"
buildah run --isolation chroot --user "$user" "$ctr" -- "${entrypoint[@]}" --version
buildah run --isolation chroot --user "$user" "$ctr" -- "${entrypoint[@]}" --help > /dev/null
buildah run --isolation chroot --user "$user" "$ctr" -- id
buildah rm "$ctr" > /dev/null
ctr=""

if awk -v b="$bytes" -v budget="$budget_mb" 'BEGIN { exit !(b > budget * 1e6) }'; then
  echo "image.sh: $tag is $(awk -v b="$bytes" 'BEGIN { printf "%.2f", b / 1e6 }') MB, over the ${budget_mb} MB budget" >&2
  exit 1
fi
echo "$tag is within the ${budget_mb} MB budget"
[[ -n $run_tests ]] || exit 0

# --- Its tests, its SBOM, the record --------------------------------------------------------------
python=/usr/bin/python3  # Debian's, with the packages installed above
work=$(mktemp -d "${TMPDIR:-/var/tmp}/deliveryhub-image-test.XXXXXX")
log "tests/image against $tag"
DELIVERYHUB_IMAGE="$tag" PYTHONDONTWRITEBYTECODE=1 "$python" -m pytest -q -p no:cacheprovider tests/image \
  | tee "$work/tests.log"
tests_summary=$(grep -E '^[0-9]+ passed' "$work/tests.log" | tail -1)
if [[ -z $tests_summary ]] || grep -qE '(failed|error|skipped)' <<< "$tests_summary"; then
  die "tests/image did not all pass: $(tail -1 "$work/tests.log")"
fi
final_base=$(awk 'toupper($1) == "FROM" { i = 2; while ($i ~ /^--/) i++; image = $i } END { print image }' Dockerfile)
final_base="${final_base#docker.io/}"; final_base="docker.io/library/${final_base#library/}"
# The build stage, for what the binary was compiled from: the same build with --target stops
# there, every step taken from the layer cache of the build above (seconds).
build_stage=$(awk 'toupper($1) == "FROM" { for (i = 2; i < NF; i++) if (tolower($i) == "as") { print $(i + 1); exit } }' Dockerfile)
build_tag="${tag%%:*}-$build_stage:${tag##*:}"
buildah bud --isolation "$BUILDAH_ISOLATION" --pull=never --layers --quiet --target "$build_stage" \
  --build-arg VERSION="$version" --build-arg REVISION="$revision" --build-arg CREATED="$created" \
  --build-arg SOURCE="$source" -f Dockerfile -t "$build_tag" . > /dev/null
image_root=$(podman image mount "$tag"); mounted+=("$tag")
build_root=$(podman image mount "$build_tag"); mounted+=("$build_tag")
base_root=$(podman image mount "$final_base"); mounted+=("$final_base")
dpkg-query --admindir="$base_root/var/lib/dpkg" -W -f '${Package}\n' | sort > "$work/base-packages"
sbom="sbom/deliveryhub-$version.cdx.json"
mkdir -p sbom
log "SBOM of $tag with cdxgen (tools/sbom)"
"$python" scripts/sbom.py generate "$image_root" "$work/sbom.json" --version "$version" --build-root "$build_root"
"$python" scripts/sbom.py check "$work/sbom.json" --base-packages "$work/base-packages" \
  || die "the SBOM's check failed (above): the image holds what it should not"
cp "$work/sbom.json" "$sbom"
"$python" scripts/sbom.py record tests/image/last-verified.json --image "$tag" --sbom "$sbom" \
  --binary "$image_root/usr/local/bin/deliveryhub" --base-packages "$work/base-packages" \
  --size-podman "$bytes" ${docker_bytes:+--size-docker "$docker_bytes"} --tests "$tests_summary"
echo "tests/image: $tests_summary; $sbom ($(grep -c '"aquasecurity:trivy:PkgType"' "$sbom") installed packages) and tests/image/last-verified.json written: commit them"
