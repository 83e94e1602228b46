from skillit.cli import main

main()
