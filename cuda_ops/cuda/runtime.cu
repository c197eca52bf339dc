// CUDA side of wecromcl._C: only <cuda_runtime.h> here, never torch/extension.h (nvcc compile time).
#include <cuda_runtime.h>

namespace wecromcl {
// The CUDA runtime version the kernels were compiled against, e.g. 13000 for 13.0.
int cuda_runtime_version() { return CUDART_VERSION; }
}  // namespace wecromcl
