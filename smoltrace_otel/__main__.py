import sys

from smoltrace_otel.cli import main

sys.exit(main())
