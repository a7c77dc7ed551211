from fluxbump.cli import main

main()
