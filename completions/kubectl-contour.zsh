#compdef kubectl-contour
# zsh completion for kubectl-contour: put it on $fpath as _kubectl-contour, or source it.
# Asks `kubectl-contour __complete WORDS... CURRENT` (cobra protocol).
_kubectl_contour() {
    local -a lines candidates
    local out directive line
    out=$(kubectl-contour __complete "${(@)words[2,CURRENT-1]}" "${words[CURRENT]}" 2>/dev/null)
    lines=("${(@f)out}")
    directive=${lines[-1]#:}
    lines=("${(@)lines[1,-2]}")
    if (( directive & 16 )); then
        _path_files -/
        return
    fi
    for line in $lines; do
        [[ -n $line ]] && candidates+=("${${line%%$'\t'*}//:/\\:}:${line#*$'\t'}")
    done
    if (( ${#candidates} )); then
        _describe 'kubectl-contour' candidates
    elif ! (( directive & 4 )); then
        _files
    fi
}
compdef _kubectl_contour kubectl-contour
