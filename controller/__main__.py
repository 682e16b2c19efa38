from controller.cli import main

if __name__ == "__main__":  # a spawned reader process (sources/folder.py) must not run it
    main()
