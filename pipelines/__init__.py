"""Responsible-party classification for Chinese e-commerce disputes: every stage as a plain function."""

import warnings

# pandera imports pyspark.pandas (on import and on its first validation) whenever the spark extra is installed, and
# pyspark 4.0 then warns that it does not support pandas 3. The project never uses pyspark.pandas: without this
# filter every command printed a false alarm.
warnings.filterwarnings("ignore", "PySpark does not yet fully support pandas", FutureWarning)
