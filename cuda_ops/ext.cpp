// Python module wecromcl._C. Only pybind11 here (the op registers itself with torch.library from msda.cpp), not
// torch/extension.h, which would make this file the slowest of the build (56 s vs a few seconds).
#include <pybind11/pybind11.h>

#ifdef WITH_CUDA
namespace wecromcl { int cuda_runtime_version(); }
#endif

// What this build of the extension contains, for wecromcl.show_install().
static pybind11::dict build_info() {
  pybind11::dict info;
  info["cpu"] = true;
#ifdef WITH_CUDA
  info["cuda"] = true;
  info["cuda_runtime"] = wecromcl::cuda_runtime_version();
#else
  info["cuda"] = false;
  info["cuda_runtime"] = pybind11::none();
#endif
  return info;
}

PYBIND11_MODULE(TORCH_EXTENSION_NAME, m) {
  m.doc() = "wecromcl compiled ops (C++ CPU kernels, CUDA kernels when built with nvcc)";
  m.def("build_info", &build_info, "Backends compiled into this extension");
}
