from voicecli.cli.app import run

run()
