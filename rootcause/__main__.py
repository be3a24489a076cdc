from rootcause.cli.main import main

main()
