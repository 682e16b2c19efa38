# bash completion for kubectl-contour (source it, or drop it in bash_completion.d).
# Asks `kubectl-contour __complete WORDS... CURRENT` (cobra protocol: candidates, then
# `:<directive>`; 4 = no file completion, 16 = directories only).
_kubectl_contour() {
    local cur="${COMP_WORDS[COMP_CWORD]}" out directive line
    local -a words=("${COMP_WORDS[@]:1:COMP_CWORD-1}")
    out=$(kubectl-contour __complete "${words[@]}" "$cur" 2>/dev/null) || return 0
    directive=${out##*:}
    out=${out%:*}
    COMPREPLY=()
    if (( directive & 16 )); then
        mapfile -t COMPREPLY < <(compgen -d -- "$cur")
        return 0
    fi
    while IFS= read -r line; do
        [[ -n "$line" ]] && COMPREPLY+=("${line%%$'\t'*}")
    done <<< "$out"
    if (( ${#COMPREPLY[@]} == 0 )) && ! (( directive & 4 )); then
        mapfile -t COMPREPLY < <(compgen -f -- "$cur")
    fi
}
complete -F _kubectl_contour kubectl-contour
