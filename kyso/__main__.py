from kyso.cli import main

main()
