{
  "targets": [
    {
      "target_name": "memshed_native",
      "cflags_cc": ["-std=c++17", "-Wall", "-Wextra", "-O2"],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=8", "NAPI_DISABLE_CPP_EXCEPTIONS", "NODE_ADDON_API_DISABLE_DEPRECATED"],
      "conditions": [
        ["OS=='linux'", { "sources": ["addon/memshed_native.cc"] }],
        ["OS!='linux'", { "sources": ["addon/unsupported.cc"] }]
      ]
    }
  ]
}
