// `import CNN` gives everything: tensors, autograd, layers, optimizers, datasets and models.
@_exported import Autograd
@_exported import Datasets
@_exported import Layers
@_exported import Models
@_exported import Optimizers
@_exported import Tensors
