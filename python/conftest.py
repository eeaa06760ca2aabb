# Puts python/ on sys.path so `import preflight_train` works when pytest runs from the repo root.
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
