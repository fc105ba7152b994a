"""`hfcourse serve [--host H] [--port P] [--reload]`."""

from __future__ import annotations


def register(sub) -> None:
    p = sub.add_parser("serve", help="start the learning platform (FastAPI)")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--reload", action="store_true", help="restart on code changes (development)")
    p.add_argument("--workers", type=int, default=1)
    p.set_defaults(func=run)


def run(args) -> int:
    import uvicorn

    print(f"hfcourse: http://{args.host}:{args.port}/")
    uvicorn.run("hfcourse.web.asgi:app", host=args.host, port=args.port, reload=args.reload,
                workers=args.workers, log_level="info")
    return 0
