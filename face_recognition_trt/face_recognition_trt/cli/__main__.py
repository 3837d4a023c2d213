"""`python -m face_recognition_trt.cli ...`: the same as `face-recognition-trt ...`."""

import sys

from . import main

sys.exit(main())
