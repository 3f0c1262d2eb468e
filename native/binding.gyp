# Builds the thin libtorch binding (mmfd_native) and the OpenSlide binding (mmfd_openslide). LIBTORCH=/path/to/libtorch (a directory with include/ and lib/,
# e.g. a CUDA build or a pip torch's site-packages/torch) overrides Debian's libtorch-dev under /usr.
{
  "variables": {
    "libtorch%": "<!(node -p \"process.env.LIBTORCH || ''\")"
  },
  "target_defaults": {
    "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
    "defines": ["NAPI_VERSION=8", "NODE_ADDON_API_CPP_EXCEPTIONS", "NODE_ADDON_API_DISABLE_DEPRECATED"],
    "cflags!": ["-fno-exceptions", "-fno-rtti"],
    "cflags_cc!": ["-fno-exceptions", "-fno-rtti", "-std=gnu++17"],
    "cflags_cc": ["-std=c++17", "-fexceptions", "-frtti", "-O2", "-Wno-unused-parameter", "-Wno-deprecated-declarations"]
  },
  "targets": [
    {
      "target_name": "mmfd_native",
      "sources": ["src/addon.cc", "src/tensor_handle.cc", "src/ops.cc", "src/autograd.cc", "src/runtime.cc", "src/profiler.cc", "src/optim.cc"],
      "conditions": [
        ["libtorch==''", {
          "include_dirs": ["/usr/include", "/usr/include/torch/csrc/api/include"],
          "libraries": ["-ltorch", "-ltorch_cpu", "-lc10"]
        }, {
          "include_dirs": ["<(libtorch)/include", "<(libtorch)/include/torch/csrc/api/include"],
          "libraries": ["-L<(libtorch)/lib", "-Wl,-rpath,<(libtorch)/lib", "-Wl,--no-as-needed", "-ltorch", "-ltorch_cpu", "-lc10", "<!(node -p \"require('fs').existsSync(process.env.LIBTORCH + '/lib/libtorch_cuda.so') ? '-ltorch_cuda -lc10_cuda' : ''\")", "-Wl,--as-needed"],
          "defines": ["_GLIBCXX_USE_CXX11_ABI=<!(node -p \"process.env.LIBTORCH_CXX11_ABI || '1'\")"]
        }]
      ]
    },
    {
      # OpenSlide in an addon of its own, loaded only when a slide is read (src/slides/openslide.ts).
      "target_name": "mmfd_openslide",
      "sources": ["src/openslide.cc"],
      "link_settings": { "libraries": ["-lopenslide"] }
    }
  ]
}
