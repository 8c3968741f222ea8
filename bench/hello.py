"""The yardstick of bench/api.py: FastAPI's hello world, served with the same settings."""

from fastapi import FastAPI

app = FastAPI()


@app.get("/hello")
def hello() -> dict[str, str]:
    """The cheapest JSON answer FastAPI gives."""
    return {"hello": "world"}
