#!/usr/bin/env bash
# Builds the JNI glue of presets/acl, presets/hccl (and presets/mslite when MSLITE_HOME is set)
# against the installed CANN toolkit, then runs the tests including the hardware ones.
# Usage: native/build-natives.sh [extra mvn arguments, e.g. install]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export ASCEND_TOOLKIT_HOME="$("$root/native/find-cann.sh")"
modules="presets/acl,presets/hccl,java/backend-ascend"
if [[ -n "${MSLITE_HOME:-}" ]]; then
  if [[ ! -f "$MSLITE_HOME/runtime/include/api/model.h" ]]; then
    echo "build-natives: MSLITE_HOME=$MSLITE_HOME has no runtime/include/api/model.h" >&2
    exit 1
  fi
  modules="$modules,presets/mslite"
fi
# set_env.sh normally puts these on the library path; the JNI libraries need them at run time.
export LD_LIBRARY_PATH="$ASCEND_TOOLKIT_HOME/lib64:${MSLITE_HOME:+$MSLITE_HOME/runtime/lib:}${LD_LIBRARY_PATH:-}"
cd "$root"
mvn -pl "$modules" -am -Dascendj.excludedGroups= "${@:-verify}"
