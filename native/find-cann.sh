#!/usr/bin/env bash
# Finds an installed CANN toolkit and checks that it has what AscendJ's presets include and link.
# Prints the toolkit root on stdout (diagnostics on stderr); exits non-zero when none is usable.
#
# Order: $ASCEND_TOOLKIT_HOME, $ASCEND_HOME_PATH (both set by set_env.sh), the default install
# /usr/local/Ascend/ascend-toolkit/latest, then a user install under $HOME/Ascend.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
candidates=()
[[ -n "${ASCEND_TOOLKIT_HOME:-}" ]] && candidates+=("$ASCEND_TOOLKIT_HOME")
[[ -n "${ASCEND_HOME_PATH:-}" ]] && candidates+=("$ASCEND_HOME_PATH")
candidates+=("/usr/local/Ascend/ascend-toolkit/latest" "$HOME/Ascend/ascend-toolkit/latest")

home=""
for c in "${candidates[@]}"; do
  if [[ -f "$c/include/acl/acl.h" && -e "$c/lib64/libascendcl.so" ]]; then
    home="$(cd "$c" && pwd -P)"
    break
  fi
  echo "find-cann: no toolkit at $c (needs include/acl/acl.h and lib64/libascendcl.so)" >&2
done
if [[ -z "$home" ]]; then
  echo "CANN not found: set ASCEND_TOOLKIT_HOME or source set_env.sh" >&2
  exit 1
fi

case "$(uname -m)" in
  x86_64) platform=linux-x86_64 ;;
  aarch64|arm64) platform=linux-arm64 ;;
  *) echo "find-cann: unsupported architecture $(uname -m)" >&2; exit 1 ;;
esac
echo "find-cann: toolkit $home, JavaCPP platform $platform" >&2

status=0
for lib in ascendcl nnopbase opapi hccl; do
  if [[ ! -e "$home/lib64/lib$lib.so" ]]; then
    echo "find-cann: missing $home/lib64/lib$lib.so" >&2
    status=1
  fi
done
# Operator headers differ between toolkit releases: report those the aclnn preset includes but this toolkit lacks.
preset="$here/../presets/acl/src/main/java/dev/ascendj/acl/presets/aclnn.java"
if [[ -f "$preset" ]]; then
  for h in $(grep -o '"aclnn[a-z]*/[a-z0-9_]*\.h"' "$preset" | tr -d '"'); do
    if [[ ! -f "$home/include/$h" ]]; then
      echo "find-cann: missing header $home/include/$h (remove it from presets/acl .../presets/aclnn.java and the operator from global/aclnn.java, or update the toolkit)" >&2
      status=1
    fi
  done
fi
for h in hccl/hccl.h hccl/hccl_types.h; do
  [[ -f "$home/include/$h" ]] || { echo "find-cann: missing $home/include/$h" >&2; status=1; }
done
echo "$home"
exit $status
