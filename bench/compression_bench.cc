// gzip for /metrics: zlib, ISA-L (igzip) and libdeflate on a real exposition body, and the cost of
// splicing one scrape's gzip member around a shared precompressed snapshot segment. BODY_FILE is a
// captured /metrics body (300k series, ~24 MB); SMALL_BODY_FILE, optional, a default-config one
// (~14 KB). How to capture them: bench/compression/README.md.
#include <benchmark/benchmark.h>
#include <isa-l/crc.h>
#include <isa-l/igzip_lib.h>
#include <libdeflate.h>
#include <zlib.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "exporter/web/gzip.h"

namespace {

using Compress = std::function<std::size_t(std::string_view text, std::string* out)>;

std::optional<std::string> ReadFile(const char* path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream text;
  text << in.rdbuf();
  return std::move(text).str();
}

Bytef* InBytes(std::string_view text) {
  return reinterpret_cast<Bytef*>(const_cast<char*>(text.data()));
}

// The baseline, what the exporter did before its spliced ISA-L segments (exporter/web/gzip.cc):
// one gzip stream at zlib level 1, deflateInit2 per call.
std::size_t ZlibGzip(int level, std::string_view text, std::string* out) {
  z_stream stream{};
  if (deflateInit2(&stream, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) return 0;
  out->resize(deflateBound(&stream, static_cast<uLong>(text.size())));
  stream.next_in = InBytes(text);
  stream.avail_in = static_cast<uInt>(text.size());
  stream.next_out = reinterpret_cast<Bytef*>(out->data());
  stream.avail_out = static_cast<uInt>(out->size());
  const int result = deflate(&stream, Z_FINISH);
  const std::size_t written = stream.total_out;
  deflateEnd(&stream);
  return result == Z_STREAM_END ? written : 0;
}

// A splice-able segment with zlib: raw deflate ended by Z_FULL_FLUSH, plus its CRC-32.
std::size_t ZlibSegment(int level, std::string_view text, std::string* out) {
  z_stream stream{};
  if (deflateInit2(&stream, level, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) != Z_OK) return 0;
  out->resize(deflateBound(&stream, static_cast<uLong>(text.size())) + 16);
  stream.next_in = InBytes(text);
  stream.avail_in = static_cast<uInt>(text.size());
  stream.next_out = reinterpret_cast<Bytef*>(out->data());
  stream.avail_out = static_cast<uInt>(out->size());
  const int result = deflate(&stream, Z_FULL_FLUSH);
  const std::size_t written = stream.total_out;
  deflateEnd(&stream);
  benchmark::DoNotOptimize(crc32(0, InBytes(text), static_cast<uInt>(text.size())));
  return result == Z_OK && stream.avail_in == 0 ? written : 0;
}

// ISA-L one-shot: `gzip` selects a whole gzip stream (header, final block, trailer) instead of a
// splice-able raw segment (FULL_FLUSH, not final) plus a separate CRC-32.
struct IsalOptions {
  std::uint32_t level = 1;
  bool gzip = false;
  bool static_tables = false;
  std::size_t level_buf_size = 0;  // 0: none (levels 0 and 1 only)
  bool reuse_level_buf = false;    // thread_local instead of one per call
};

std::size_t IsalStateless(const IsalOptions& options, std::string_view text, std::string* out) {
  thread_local std::vector<std::uint8_t> reused;
  std::unique_ptr<std::uint8_t[]> own;
  std::uint8_t* level_buf = nullptr;
  if (options.level_buf_size > 0) {
    if (options.reuse_level_buf) {
      if (reused.size() < options.level_buf_size) reused.resize(options.level_buf_size);
      level_buf = reused.data();
    } else {
      own = std::make_unique_for_overwrite<std::uint8_t[]>(options.level_buf_size);
      level_buf = own.get();
    }
  }
  const auto stream = std::make_unique_for_overwrite<isal_zstream>();
  isal_deflate_stateless_init(stream.get());
  if (options.static_tables)
    isal_deflate_set_hufftables(stream.get(), nullptr, IGZIP_HUFFTABLE_STATIC);
  stream->level = options.level;
  stream->level_buf = level_buf;
  stream->level_buf_size = static_cast<std::uint32_t>(options.level_buf_size);
  stream->gzip_flag = options.gzip ? IGZIP_GZIP : IGZIP_DEFLATE;
  stream->end_of_stream = options.gzip ? 1 : 0;
  stream->flush = options.gzip ? NO_FLUSH : FULL_FLUSH;
  out->resize(text.size() + text.size() / 64 + 1024);
  stream->next_in = reinterpret_cast<std::uint8_t*>(const_cast<char*>(text.data()));
  stream->avail_in = static_cast<std::uint32_t>(text.size());
  stream->next_out = reinterpret_cast<std::uint8_t*>(out->data());
  stream->avail_out = static_cast<std::uint32_t>(out->size());
  if (isal_deflate_stateless(stream.get()) != COMP_OK) return 0;
  if (!options.gzip) {
    benchmark::DoNotOptimize(
        crc32_gzip_refl(0, reinterpret_cast<const unsigned char*>(text.data()), text.size()));
  }
  return stream->total_out;
}

// ISA-L streaming, the shape DeflateSegmentOf uses: output grown from a quarter of the input, a
// level buffer per call, FULL_FLUSH without end_of_stream.
std::size_t IsalStateful(std::uint32_t level, std::size_t level_buf_size, std::string_view text,
                         std::string* out, bool static_tables = false) {
  std::unique_ptr<std::uint8_t[]> level_buf;
  if (level_buf_size > 0)
    level_buf = std::make_unique_for_overwrite<std::uint8_t[]>(level_buf_size);
  const auto stream = std::make_unique_for_overwrite<isal_zstream>();
  isal_deflate_init(stream.get());
  if (static_tables) isal_deflate_set_hufftables(stream.get(), nullptr, IGZIP_HUFFTABLE_STATIC);
  stream->level = level;
  stream->level_buf = level_buf.get();
  stream->level_buf_size = static_cast<std::uint32_t>(level_buf_size);
  stream->flush = FULL_FLUSH;
  stream->next_in = reinterpret_cast<std::uint8_t*>(const_cast<char*>(text.data()));
  stream->avail_in = static_cast<std::uint32_t>(text.size());
  out->resize(text.size() / 4 + 1024);
  std::size_t written = 0;
  while (true) {
    stream->next_out = reinterpret_cast<std::uint8_t*>(out->data() + written);
    stream->avail_out = static_cast<std::uint32_t>(out->size() - written);
    if (isal_deflate(stream.get()) != COMP_OK) return 0;
    written = out->size() - stream->avail_out;
    if (stream->avail_in == 0 && stream->avail_out > 0) break;
    out->resize(out->size() * 2);
  }
  benchmark::DoNotOptimize(
      crc32_gzip_refl(0, reinterpret_cast<const unsigned char*>(text.data()), text.size()));
  return written;
}

std::size_t Libdeflate(libdeflate_compressor* compressor, std::string_view text, std::string* out) {
  out->resize(libdeflate_gzip_compress_bound(compressor, text.size()));
  return libdeflate_gzip_compress(compressor, text.data(), text.size(), out->data(), out->size());
}

std::size_t LibdeflatePerCall(int level, std::string_view text, std::string* out) {
  libdeflate_compressor* compressor = libdeflate_alloc_compressor(level);
  if (compressor == nullptr) return 0;
  const std::size_t written = Libdeflate(compressor, text, out);
  libdeflate_free_compressor(compressor);
  return written;
}

// The decompressed size of `compressed` (gzip if `gzip`, else a raw segment), to check each path
// once before it is timed.
std::optional<std::string> Inflate(std::string_view compressed, bool gzip) {
  z_stream stream{};
  if (inflateInit2(&stream, gzip ? 16 + 15 : -15) != Z_OK) return std::nullopt;
  std::string out(std::size_t{64} << 10, '\0');
  stream.next_in = InBytes(compressed);
  stream.avail_in = static_cast<uInt>(compressed.size());
  int result = Z_OK;
  while (result == Z_OK) {
    if (stream.total_out == out.size()) out.resize(out.size() * 2);
    stream.next_out = reinterpret_cast<Bytef*>(out.data() + stream.total_out);
    stream.avail_out = static_cast<uInt>(out.size() - stream.total_out);
    result = inflate(&stream, Z_NO_FLUSH);
    // A raw segment has no final block: it ends where the input does, all output written.
    if (!gzip && stream.avail_in == 0 && stream.avail_out > 0) break;
    if (result == Z_BUF_ERROR && stream.avail_out > 0) break;
  }
  out.resize(stream.total_out);
  inflateEnd(&stream);
  if (gzip && result != Z_STREAM_END) return std::nullopt;
  return out;
}

void SetCounters(benchmark::State& state, std::size_t in_bytes, std::size_t out_bytes) {
  const auto iterations = static_cast<double>(state.iterations());
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) *
                          static_cast<std::int64_t>(in_bytes));
  state.counters["in_MB"] = static_cast<double>(in_bytes) / 1e6;
  state.counters["ratio"] = static_cast<double>(in_bytes) / static_cast<double>(out_bytes);
  // CPU time per MB (10^6 bytes) of input, printed in seconds ("842us" is 0.842 ms/MB).
  state.counters["per_MB"] =
      benchmark::Counter(iterations * static_cast<double>(in_bytes) / 1e6,
                         benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}

// Registers BM_<name> compressing `text`: checked once by inflating it back, then timed with the
// output size checked on every iteration.
void RegisterCompress(const std::string& name, const std::string* text, bool gzip,
                      Compress compress) {
  benchmark::RegisterBenchmark(
      name.c_str(), [text, gzip, compress = std::move(compress)](benchmark::State& state) {
        std::string out;
        const std::size_t expected = compress(*text, &out);
        if (expected == 0) return state.SkipWithError("compression failed");
        const auto round_trip = Inflate(std::string_view(out).substr(0, expected), gzip);
        if (!round_trip || *round_trip != *text)
          return state.SkipWithError("does not inflate back");
        for (auto _ : state) {
          const std::size_t written = compress(*text, &out);
          if (written != expected) {
            state.SkipWithError("output size changed");
            break;
          }
          benchmark::DoNotOptimize(out.data());
        }
        SetCounters(state, text->size(), expected);
      });
}

struct Parts {
  std::string head;
  std::string snapshot;
  std::string tail;
};

// The three parts the collector renders: head is smartproxy_up, tail starts at the exporter's own
// metrics (smartproxy_exporter_build_info), the snapshot text is everything in between.
std::optional<Parts> Split(const std::string& body) {
  const std::size_t snapshot_begin = body.find("# HELP smartproxy_connections_active");
  const std::size_t tail_begin = body.find("# HELP smartproxy_exporter_build_info");
  if (snapshot_begin == std::string::npos || tail_begin == std::string::npos ||
      tail_begin < snapshot_begin) {
    return std::nullopt;
  }
  return Parts{body.substr(0, snapshot_begin),
               body.substr(snapshot_begin, tail_begin - snapshot_begin), body.substr(tail_begin)};
}

void RegisterLibraries(const std::string& suffix, const std::string* text) {
  RegisterCompress("BM_Zlib_Gzip/level:1" + suffix, text, true,
                   [](std::string_view t, std::string* out) { return ZlibGzip(1, t, out); });
  RegisterCompress("BM_Zlib_Segment/level:1" + suffix, text, false,
                   [](std::string_view t, std::string* out) { return ZlibSegment(1, t, out); });
  for (const std::uint32_t level : {0U, 1U, 2U, 3U}) {
    const std::size_t buf = level == 0   ? 0
                            : level == 1 ? ISAL_DEF_LVL1_DEFAULT
                            : level == 2 ? ISAL_DEF_LVL2_DEFAULT
                                         : ISAL_DEF_LVL3_DEFAULT;
    const std::string l = "/level:" + std::to_string(level);
    RegisterCompress("BM_Isal_Gzip" + l + suffix, text, true,
                     [level, buf](std::string_view t, std::string* out) {
                       return IsalStateless({level, true, false, buf, false}, t, out);
                     });
    RegisterCompress("BM_Isal_Segment" + l + suffix, text, false,
                     [level, buf](std::string_view t, std::string* out) {
                       return IsalStateless({level, false, false, buf, false}, t, out);
                     });
  }
  struct Stateful {
    const char* name;
    std::uint32_t level;
    std::size_t level_buf_size;
  };
  const Stateful stateful[] = {
      {"level:0", 0, 0},
      {"level:1/smallbuf", 1, ISAL_DEF_LVL1_SMALL},
      {"level:1/defaultbuf", 1, ISAL_DEF_LVL1_DEFAULT},
      {"level:1/extralargebuf", 1, ISAL_DEF_LVL1_EXTRA_LARGE},
      {"level:2/defaultbuf", 2, ISAL_DEF_LVL2_DEFAULT},
  };
  for (const Stateful& v : stateful) {
    const std::uint32_t level = v.level;
    const std::size_t buf = v.level_buf_size;
    RegisterCompress(std::string("BM_Isal_SegmentStateful/") + v.name + suffix, text, false,
                     [level, buf](std::string_view t, std::string* out) {
                       return IsalStateful(level, buf, t, out);
                     });
  }
  for (const int level : {0, 1, 2, 3}) {
    // One compressor per level, shared by the runs and freed at exit.
    static std::vector<std::unique_ptr<libdeflate_compressor, void (*)(libdeflate_compressor*)>>
        compressors;
    compressors.emplace_back(libdeflate_alloc_compressor(level), libdeflate_free_compressor);
    libdeflate_compressor* compressor = compressors.back().get();
    RegisterCompress("BM_Libdeflate_Gzip/level:" + std::to_string(level) + suffix, text, true,
                     [compressor](std::string_view t, std::string* out) -> std::size_t {
                       return compressor == nullptr ? 0 : Libdeflate(compressor, t, out);
                     });
  }
  RegisterCompress(
      "BM_Libdeflate_GzipAllocPerCall/level:1" + suffix, text, true,
      [](std::string_view t, std::string* out) { return LibdeflatePerCall(1, t, out); });
  RegisterCompress("BM_Exporter_DeflateSegmentOf" + suffix, text, false,
                   [](std::string_view t, std::string* out) -> std::size_t {
                     auto segment = exporter::web::DeflateSegmentOf(t);
                     if (!segment) return 0;
                     out->assign(segment->bytes);  // a copy: the segment has its own allocator
                     return out->size();
                   });
}

// Variants for the per-scrape head and tail (hundreds of bytes to 2 KB): which level, which Huffman
// tables, and whether the level buffer is allocated per call.
void RegisterSmallPiece(const std::string& name, const std::string* text) {
  struct Variant {
    const char* name;
    IsalOptions options;
  };
  const Variant variants[] = {
      {"level:0", {0, false, false, 0, false}},
      {"level:0/static", {0, false, true, 0, false}},
      {"level:1/nobuf", {1, false, false, 0, false}},
      {"level:1/minbuf", {1, false, false, ISAL_DEF_LVL1_MIN, false}},
      {"level:1/defaultbuf", {1, false, false, ISAL_DEF_LVL1_DEFAULT, false}},
      {"level:1/defaultbuf/reused", {1, false, false, ISAL_DEF_LVL1_DEFAULT, true}},
      {"level:1/minbuf/static", {1, false, true, ISAL_DEF_LVL1_MIN, false}},
  };
  for (const Variant& v : variants) {
    const IsalOptions options = v.options;
    RegisterCompress(
        "BM_Isal_Segment/" + name + "/" + v.name, text, false,
        [options](std::string_view t, std::string* out) { return IsalStateless(options, t, out); });
  }
  RegisterCompress("BM_Isal_SegmentStateful/" + name + "/level:0", text, false,
                   [](std::string_view t, std::string* out) { return IsalStateful(0, 0, t, out); });
  RegisterCompress(
      "BM_Isal_SegmentStateful/" + name + "/level:0/static", text, false,
      [](std::string_view t, std::string* out) { return IsalStateful(0, 0, t, out, true); });
  RegisterCompress("BM_Zlib_Segment/" + name + "/level:1", text, false,
                   [](std::string_view t, std::string* out) { return ZlibSegment(1, t, out); });
  RegisterCompress("BM_Exporter_DeflateSegmentOf/" + name, text, false,
                   [](std::string_view t, std::string* out) -> std::size_t {
                     auto segment = exporter::web::DeflateSegmentOf(t);
                     if (!segment) return 0;
                     out->assign(segment->bytes);  // a copy: the segment has its own allocator
                     return out->size();
                   });
}

void RegisterCrc(const std::string* text) {
  const auto* bytes = reinterpret_cast<const unsigned char*>(text->data());
  const std::uint32_t expected =
      static_cast<std::uint32_t>(crc32(0, bytes, static_cast<uInt>(text->size())));
  const auto reg = [&](const char* name, std::function<std::uint32_t()> crc) {
    benchmark::RegisterBenchmark(
        name, [crc = std::move(crc), expected, text](benchmark::State& state) {
          for (auto _ : state) {
            if (crc() != expected) {
              state.SkipWithError("wrong CRC");
              break;
            }
          }
          state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) *
                                  static_cast<std::int64_t>(text->size()));
        });
  };
  const auto size = text->size();
  reg("BM_Crc32_Zlib",
      [bytes, size] { return static_cast<std::uint32_t>(crc32_z(0, bytes, size)); });
  reg("BM_Crc32_Isal", [bytes, size] { return crc32_gzip_refl(0, bytes, size); });
  reg("BM_Crc32_Libdeflate", [bytes, size] { return libdeflate_crc32(0, bytes, size); });
}

// Per scrape with the snapshot precompressed: deflate head and tail, then frame the member.
// "Joined" copies the shared segment into one string; "Framed" leaves it in place, as a server
// sending a list of buffers would.
void RegisterSplice(const Parts* parts) {
  const auto snapshot = std::make_shared<exporter::web::DeflateSegment>(
      exporter::web::DeflateSegmentOf(parts->snapshot).value());
  const std::string whole = parts->head + parts->snapshot + parts->tail;
  benchmark::RegisterBenchmark(
      "BM_Splice_PerScrape/Joined", [parts, snapshot, whole](benchmark::State& state) {
        std::size_t expected = 0;
        {
          const auto head = exporter::web::DeflateSegmentOf(parts->head);
          const auto tail = exporter::web::DeflateSegmentOf(parts->tail);
          const std::string member = exporter::web::GzipMember({&*head, snapshot.get(), &*tail});
          if (Inflate(member, true) != whole) return state.SkipWithError("does not inflate back");
          expected = member.size();
        }
        for (auto _ : state) {
          const auto head = exporter::web::DeflateSegmentOf(parts->head);
          const auto tail = exporter::web::DeflateSegmentOf(parts->tail);
          if (!head || !tail) return state.SkipWithError("compression failed");
          const std::string member = exporter::web::GzipMember({&*head, snapshot.get(), &*tail});
          if (member.size() != expected) return state.SkipWithError("output size changed");
          benchmark::DoNotOptimize(member.data());
        }
        SetCounters(state, whole.size(), expected);
      });
  benchmark::RegisterBenchmark(
      "BM_Splice_PerScrape/Framed", [parts, snapshot, whole](benchmark::State& state) {
        std::size_t expected = 0;
        for (auto _ : state) {
          const auto head = exporter::web::DeflateSegmentOf(parts->head);
          const auto tail = exporter::web::DeflateSegmentOf(parts->tail);
          if (!head || !tail) return state.SkipWithError("compression failed");
          const exporter::web::DeflateSegment* segments[] = {&*head, snapshot.get(), &*tail};
          const std::string trailer = exporter::web::GzipTrailer(segments);
          const std::size_t size = exporter::web::GzipHeader().size() + head->bytes.size() +
                                   snapshot->bytes.size() + tail->bytes.size() + trailer.size();
          if (expected == 0) expected = size;
          if (size != expected) return state.SkipWithError("output size changed");
          benchmark::DoNotOptimize(trailer.data());
        }
        SetCounters(state, whole.size(), expected);
      });
  // The once-per-fetch part, for the total: snapshot segment (compression and CRC-32).
  RegisterCompress("BM_Splice_PerFetch/snapshot", &parts->snapshot, false,
                   [](std::string_view t, std::string* out) -> std::size_t {
                     auto segment = exporter::web::DeflateSegmentOf(t);
                     if (!segment) return 0;
                     out->assign(segment->bytes);  // a copy: the segment has its own allocator
                     return out->size();
                   });
}

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  const char* body_file = std::getenv("BODY_FILE");
  if (body_file == nullptr || *body_file == '\0') {
    std::fprintf(stderr,
                 "compression_bench: BODY_FILE is not set, skipped. Capture a /metrics body "
                 "first (bench/compression/README.md), then run\n"
                 "  BODY_FILE=/tmp/gzb/body300k.prom SMALL_BODY_FILE=/tmp/gzb/small.prom %s\n",
                 argv[0]);
    return 0;
  }
  // Kept alive for the whole run: the registered benchmarks point at them.
  static std::string body;
  static std::string small;
  static Parts parts;
  if (auto text = ReadFile(body_file)) {
    body = std::move(*text);
  } else {
    std::fprintf(stderr, "compression_bench: cannot read BODY_FILE %s\n", body_file);
    return 1;
  }
  auto split = Split(body);
  if (!split) {
    std::fprintf(stderr, "compression_bench: %s is not a smartproxy_exporter body\n", body_file);
    return 1;
  }
  parts = std::move(*split);
  RegisterLibraries("/body:large", &body);
  RegisterCrc(&body);
  RegisterSplice(&parts);
  RegisterSmallPiece("head", &parts.head);
  RegisterSmallPiece("tail", &parts.tail);
  if (const char* small_file = std::getenv("SMALL_BODY_FILE")) {
    if (auto text = ReadFile(small_file)) {
      small = std::move(*text);
      RegisterLibraries("/body:small", &small);
    } else {
      std::fprintf(stderr, "compression_bench: cannot read SMALL_BODY_FILE %s\n", small_file);
      return 1;
    }
  }
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
