#!/usr/bin/env bash
# Builds AscendJ's simulated CANN and the JavaCPP glue linked against it.
#
#   build.sh TOOLKIT_DIR RESOURCE_DIR [JAVA CLASSPATH]
#
# TOOLKIT_DIR receives a toolkit layout: include/ (the project's declaration headers, from
# native/compile-check/include) and lib64/ (libascendcl.so, libnnopbase.so, libopapi.so,
# libhccl.so), so that ASCEND_TOOLKIT_HOME=TOOLKIT_DIR works like an installed toolkit.
# With JAVA and CLASSPATH (the presets' classes and JavaCPP), the JNI glue of presets/acl and
# presets/hccl is generated and compiled against that toolkit, and the four libraries and the
# three glue libraries are copied to RESOURCE_DIR (dev/ascendj/cann/simulator/<platform> in the
# class path), where ASCENDJ_CANN=simulator finds them.
#
# Without a C compiler, or on a platform other than linux-x86_64/linux-arm64, it prints why and
# exits 0: the build goes on without the simulator. Outputs newer than their inputs are kept.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
toolkit="${1:?toolkit directory}"
resources="${2:?resource directory}"
java="${3:-}"
classpath="${4:-}"
headers="$here/../compile-check/include"

case "$(uname -s)-$(uname -m)" in
  Linux-x86_64) platform=linux-x86_64 ;;
  Linux-aarch64|Linux-arm64) platform=linux-arm64 ;;
  *) echo "[ascendj] CANN simulator: not built on $(uname -s) $(uname -m) (Linux only)"; exit 0 ;;
esac
cc="${CC:-cc}"
if ! command -v "$cc" > /dev/null 2>&1; then
  echo "[ascendj] CANN simulator: not built, no C compiler ('$cc'); the jar runs without ASCENDJ_CANN=simulator"
  exit 0
fi

# newer_than OUT INPUT...: true when OUT exists and is newer than every INPUT file (directories are searched).
newer_than() {
  local out="$1"; shift
  [[ -e "$out" ]] || return 1
  [[ -z "$(find "$@" -newer "$out" -type f -print -quit 2> /dev/null)" ]]
}

lib64="$toolkit/lib64"
mkdir -p "$lib64" "$toolkit/include"
cflags=(-std=gnu11 -O3 -fPIC -Wall -Wextra -Wno-unused-parameter -pthread -I"$headers" -I"$here/src")
ldflags=(-shared -pthread -Wl,--no-undefined -Wl,-rpath,'$ORIGIN' -L"$lib64")

# so NAME LIBS... SOURCES...: builds lib$NAME.so from sources unless it is up to date.
build() {
  local name="$1" libs="$2"; shift 2
  local out="$lib64/lib$name.so"
  if newer_than "$out" "$@" "$here/src"/*.h "$headers" "${BASH_SOURCE[0]}"; then
    return 0
  fi
  # shellcheck disable=SC2086
  "$cc" "${cflags[@]}" "${ldflags[@]}" -Wl,-soname,"lib$name.so" -o "$out.tmp" "$@" $libs
  mv "$out.tmp" "$out"
  built=1
}

built=0
src="$here/src"
build ascendcl "-lm" "$src/acl_runtime.c"
build nnopbase "-lascendcl" "$src/aclnn_meta.c"
build opapi "-lnnopbase -lascendcl -lm" "$src/aclnn_common.c" "$src/aclnn_elementwise.c" "$src/aclnn_matmul.c" \
  "$src/aclnn_reduce.c" "$src/aclnn_nn.c" "$src/aclnn_attention.c" "$src/aclnn_loss.c"
build hccl "-lascendcl -lm -lrt" "$src/hccl.c"
if ! newer_than "$toolkit/include/acl/acl.h" "$headers"; then
  rm -rf "$toolkit/include"
  cp -R "$headers" "$toolkit/include"
fi
[[ $built == 1 ]] && echo "[ascendj] CANN simulator: built $lib64"

[[ -n "$java" && -n "$classpath" ]] || exit 0
if ! command -v g++ > /dev/null 2>&1; then
  echo "[ascendj] CANN simulator: JNI glue not built, no C++ compiler (g++); ASCENDJ_CANN=simulator unavailable"
  exit 0
fi

# The glue: what the "cann" Maven profile builds on an Ascend server, here against the simulator.
mkdir -p "$resources"
glue="$resources/libjnihccl.so"
classes=()
IFS=':' read -r -a entries <<< "$classpath"
for e in "${entries[@]}"; do
  [[ "$e" == *presets* || "$e" == *presets-acl* || "$e" == *presets-hccl* ]] && classes+=("$e")
done
if ! newer_than "$glue" "${classes[@]}" "$lib64" "$headers"; then
  work="$(mktemp -d)"
  trap 'rm -rf "$work"' EXIT
  "$java" -cp "$classpath" org.bytedeco.javacpp.tools.Builder -cp "$classpath" -d "$work" \
    -Dplatform.includepath="$toolkit/include" -Dplatform.linkpath="$lib64" \
    "dev.ascendj.acl.**" "dev.ascendj.hccl.**" > "$work/builder.log" 2>&1 || {
      cat "$work/builder.log" >&2
      echo "[ascendj] CANN simulator: building the JNI glue failed (log above)" >&2
      exit 1
    }
  for lib in jniacl jniaclnn jnihccl; do
    [[ -f "$work/lib$lib.so" ]] || { cat "$work/builder.log" >&2; echo "no lib$lib.so generated" >&2; exit 1; }
    cp "$work/lib$lib.so" "$resources/"
  done
  echo "[ascendj] CANN simulator: JNI glue built for $platform"
fi
for lib in ascendcl nnopbase opapi hccl; do
  cp -p "$lib64/lib$lib.so" "$resources/"
done
