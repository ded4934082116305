from crossroads.cli import run

run()
