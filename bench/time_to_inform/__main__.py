import sys

from bench.time_to_inform.run import main

sys.exit(main())
