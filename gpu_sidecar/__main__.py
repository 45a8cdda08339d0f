import sys

from gpu_sidecar.cli import main

sys.exit(main())
