import Pipelines
