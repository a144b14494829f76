"""The console script ``prompt-sessions`` (and ``python -m prompt_sessions``).

Ctrl-C is held from the first line (``interrupts``) until the command line has loaded, so an
interrupt while modules import is one line and exit status 130, never a traceback (DESIGN
section 6). Only ``interrupts`` may be imported before the hold starts.
"""

from . import interrupts


def main() -> None:
    """Run the command line on ``sys.argv``; exits with the command's status."""
    interrupts.hold()  # released by the command line once its command is found
    try:
        from .cli import main as cli_main
    except BaseException:
        interrupts.release()  # an import that failed: say so as Python would
        raise
    cli_main()


if __name__ == "__main__":
    main()
