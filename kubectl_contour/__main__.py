from kubectl_contour.cli import main

main()
