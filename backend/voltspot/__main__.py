from voltspot.cli import main

main()
