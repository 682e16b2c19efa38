# fish completion for kubectl-contour: copy to ~/.config/fish/completions/.
# Asks `kubectl-contour __complete WORDS... CURRENT` (cobra protocol).
function __kubectl_contour_complete
    set -l words (commandline -opc)
    set -e words[1]
    set -l out (kubectl-contour __complete $words (commandline -ct) 2>/dev/null)
    set -l directive (string replace ':' '' -- $out[-1])
    if test (math "bitand($directive, 16)") -ne 0
        __fish_complete_directories (commandline -ct)
        return
    end
    printf '%s\n' $out[1..-2]
end
complete -c kubectl-contour -f -a '(__kubectl_contour_complete)'
