from papertide.cli import app

app()
