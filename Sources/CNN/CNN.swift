// `import CNN` gives everything: tensors, autograd, layers, optimizers, datasets, models and
// distributed training's MPI binding.
@_exported import Autograd
@_exported import Datasets
@_exported import Distributed
@_exported import Layers
@_exported import Models
@_exported import Optimizers
@_exported import Tensors
