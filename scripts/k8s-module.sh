# Sourced by scripts/envtest.sh and scripts/node.sh (not run): prepares a Go module that
# requires the pinned k8s.io/kubernetes, so both build their binaries from one replace list.
#
# k8s_prepare_module DIR NAME VERSION   go.mod in DIR requiring k8s.io/kubernetes@VERSION with
#                                       its staging modules replaced by their published
#                                       v0.<minor>.<patch> (and its other replaces verbatim)
# k8s_ldflags VERSION                   the -ldflags that stamp the version into the binaries
# Needs GO and PYTHON set, and log() defined, by the caller.

k8s_prepare_module() {
  local dir="$1" name="$2" version="$3"
  rm -rf "${dir}"; mkdir -p "${dir}"
  (
    cd "${dir}"
    "${GO}" mod init "${name}" >/dev/null 2>&1
    local gomod
    gomod="$("${GO}" mod download -json "k8s.io/kubernetes@${version}" \
      | "${PYTHON}" -c 'import json,sys; d=json.load(sys.stdin); e=d.get("Error"); sys.exit("go mod download: "+e) if e else print(d["GoMod"])')" \
      || { echo "download of k8s.io/kubernetes@${version} failed" >&2; exit 1; }
    # v1.35.4 -> v0.35.4 (staging modules are published as v0.<minor>.<patch>)
    local staging_version="v0.${version#v1.}"
    local edits
    edits="$("${GO}" mod edit -json "${gomod}" | "${PYTHON}" -c '
import json, sys
ver = sys.argv[1]
mod = json.load(sys.stdin)
n = 0
for r in mod.get("Replace") or []:
    new = r["New"]["Path"]
    if new.startswith("./staging/") or new.startswith("staging/"):
        print("-replace=%s=%s@%s" % (r["Old"]["Path"], r["Old"]["Path"], ver))
        n += 1
    elif not new.startswith("."):
        # a non-local replace in the pinned go.mod: carry it over verbatim
        v = r["New"].get("Version")
        print("-replace=%s=%s" % (r["Old"]["Path"], new + ("@" + v if v else "")))
if n == 0:
    sys.exit("no staging replace directives found in k8s.io/kubernetes go.mod")
' "${staging_version}")" || exit 1
    log "k8s.io/kubernetes ${version}: $(wc -l <<<"${edits}") replace directives (staging -> ${staging_version})"
    # shellcheck disable=SC2086
    "${GO}" mod edit -require="k8s.io/kubernetes@${version}" ${edits}
  )
}

k8s_ldflags() {
  local version="$1" pkg=k8s.io/component-base/version
  printf '%s' "-s -w -X ${pkg}.gitVersion=${version} -X ${pkg}.gitMajor=1"
  printf '%s' " -X ${pkg}.gitMinor=$(cut -d. -f2 <<<"${version}") -X ${pkg}.gitTreeState=clean"
}
