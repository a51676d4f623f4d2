import sys

from infra.bench.runner import main

sys.exit(main())
