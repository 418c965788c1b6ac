from crisis.app.cli import main

main()
