{
  "targets": [
    {
      "target_name": "vmpulse_libvirt",
      "sources": [
        "src/addon.cc",
        "src/errors.cc",
        "src/worker.cc",
        "src/typed_params.cc",
        "src/connection.cc",
        "src/domain.cc",
        "src/stats.cc",
        "src/per_domain_stats.cc",
        "src/stats_table.cc",
        "src/events.cc",
        "src/dump_job.cc",
        "src/storage_stream.cc",
        "src/jobs.cc",
        "src/metadata.cc",
        "src/pool_info.cc",
        "src/gzip_pipeline.cc",
        "src/malloc_trim.cc"
      ],
      "include_dirs": [
        "<!(node -p \"require('node-addon-api').include_dir\")"
      ],
      "defines": [
        "NAPI_VERSION=8",
        "NODE_ADDON_API_DISABLE_DEPRECATED",
        "NAPI_CPP_EXCEPTIONS"
      ],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions"],
      "cflags_cc": ["-std=c++17", "-Wall", "-Wextra", "-Wno-unused-parameter", "<!@(pkg-config --cflags libvirt)"],
      "libraries": ["<!@(pkg-config --libs libvirt)", "-lisal"]
    }
  ]
}
