// The worker group over MPI (MX_USE_MPI): one communication thread makes every MPI call of libmx,
// in ticket order (see worker_group.h). A process that mpirun did not start is a group of one
// without MPI, so a dist_* store also works (as one worker) in a plain run.
#include <dlfcn.h>
// The C API only: MPI's deprecated C++ bindings would drag in libmpi_cxx.
#define OMPI_SKIP_MPICXX 1
#define MPICH_SKIP_MPICXX 1
#include <mpi.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <climits>
#include <cmath>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <sstream>
#include <thread>
#include <utility>

#include "base/error.h"
#include "kvstore/worker_group.h"

namespace mx {
namespace kvstore {
namespace {

// ---- IEEE half for the float16 sum (MPI has no half type)
// ----------------------------------------

float HalfToFloat(uint16_t h) {
  const uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
  const uint32_t exp = (h >> 10) & 0x1fu, mant = h & 0x3ffu;
  if (exp == 0) {  // zero or subnormal: mant * 2^-24
    const float f = std::ldexp(static_cast<float>(mant), -24);
    return sign != 0 ? -f : f;
  }
  const uint32_t bits =
      exp == 31 ? (sign | 0x7f800000u | (mant << 13)) : (sign | ((exp + 112) << 23) | (mant << 13));
  float f;
  std::memcpy(&f, &bits, sizeof(f));
  return f;
}

// Round to nearest even, overflow to infinity, NaN stays NaN.
uint16_t FloatToHalf(float f) {
  uint32_t x;
  std::memcpy(&x, &f, sizeof(x));
  const auto sign = static_cast<uint16_t>((x >> 16) & 0x8000u);
  const uint32_t ax = x & 0x7fffffffu;
  if (ax > 0x7f800000u) return sign | 0x7e00u;
  if (ax >= 0x477ff000u) return sign | 0x7c00u;  // >= 65520 rounds past the largest half
  if (ax < 0x38800000u) {                        // below 2^-14: a subnormal half
    float a;
    std::memcpy(&a, &ax, sizeof(a));
    return sign | static_cast<uint16_t>(std::nearbyint(a * 16777216.0f));  // in units of 2^-24
  }
  uint32_t h = (ax >> 13) - (112u << 10);  // rebias the exponent from 127 to 15
  const uint32_t rest = ax & 0x1fffu;
  if (rest > 0x1000u || (rest == 0x1000u && (h & 1u) != 0)) ++h;  // a carry moves the exponent
  return sign | static_cast<uint16_t>(h);
}

void HalfSum(void* in, void* inout, int* len, MPI_Datatype* /*type*/) {
  const auto* a = static_cast<const uint16_t*>(in);
  auto* b = static_cast<uint16_t*>(inout);
  for (int i = 0; i < *len; ++i) b[i] = FloatToHalf(HalfToFloat(a[i]) + HalfToFloat(b[i]));
}

MPI_Datatype MpiType(DType t) {
  switch (t) {
    case DType::kFloat32:
      return MPI_FLOAT;
    case DType::kFloat64:
      return MPI_DOUBLE;
    case DType::kFloat16:
      return MPI_UINT16_T;  // summed by HalfSum
    case DType::kUint8:
      return MPI_UINT8_T;
    case DType::kInt32:
      return MPI_INT32_T;
    case DType::kInt8:
      return MPI_INT8_T;
    case DType::kInt64:
      return MPI_INT64_T;
  }
  MX_THROW(kInternal) << "no MPI type for dtype " << static_cast<int>(t);
}

std::string MpiMessage(int code) {
  char text[MPI_MAX_ERROR_STRING];
  int len = 0;
  if (MPI_Error_string(code, text, &len) != MPI_SUCCESS) return "MPI error " + std::to_string(code);
  return std::string(text, static_cast<size_t>(len));
}

// MX_KVSTORE_TIMEOUT: seconds a collective may wait for the other workers.
double TimeoutSeconds() {
  const char* s = std::getenv("MX_KVSTORE_TIMEOUT");
  if (s == nullptr || *s == '\0') return 300;
  char* end = nullptr;
  const double v = std::strtod(s, &end);
  MX_CHECK(end != s && *end == '\0' && v > 0 && std::isfinite(v), kInvalidArgument)
      << "MX_KVSTORE_TIMEOUT must be a positive number of seconds, got '" << s << "'";
  return v;
}

// Whether a launcher (mpirun / mpiexec, or a PMI-speaking resource manager) started this process.
bool LaunchedByMpi() {
  for (const char* v : {"OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_RANK", "PMI_SIZE"}) {
    if (std::getenv(v) != nullptr) return true;
  }
  return false;
}

size_t TotalCount(const Collective& c) {
  size_t n = 0;
  for (const auto& s : c.segments) n += s.count;
  return n;
}

// ---- a group of one: the process was not started by mpirun -------------------------------------

class SoloGroup final : public WorkerGroup {
 public:
  int rank() const override { return 0; }
  int size() const override { return 1; }
  uint64_t Reserve() override { return 0; }
  void Run(uint64_t /*ticket*/, Collective c, Done done) override {
    // The sum over one worker is its value; rank 0's value is its own; one value agrees with
    // itself.
    const size_t esize = DTypeSize(c.dtype);
    for (const auto& s : c.segments) {
      if (c.kind == Collective::Kind::kAgree) {
        static_cast<uint64_t*>(s.dst)[0] = 1;
      } else if (c.kind == Collective::Kind::kAllreduceSum && s.src != s.dst) {
        std::memcpy(s.dst, s.src, s.count * esize);
      }
    }
    done(nullptr);
  }
};

// ---- MPI ----------------------------------------------------------------------------------------

class MpiGroup final : public WorkerGroup {
 public:
  explicit MpiGroup(double timeout) : timeout_(timeout) {
    thread_ = std::thread([this] { Main(); });
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [&] { return started_; });
    if (!start_error_.empty()) {
      lock.unlock();
      thread_.join();
      MX_THROW(kFailed) << "cannot start MPI for a distributed kvstore: " << start_error_;
    }
  }

  int rank() const override { return rank_; }
  int size() const override { return size_; }
  uint64_t Reserve() override { return next_ticket_.fetch_add(1, std::memory_order_relaxed); }

  void Run(uint64_t ticket, Collective c, Done done) override {
    std::lock_guard<std::mutex> lock(mu_);
    jobs_.emplace(ticket, Job{std::move(c), std::move(done)});
    cv_.notify_all();
  }

  // At process exit: runs the collectives already reserved, in order, then finalises MPI.
  void Exit() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
      cv_.notify_all();
    }
    if (thread_.joinable()) thread_.join();
  }

 private:
  struct Job {
    Collective c;
    Done done;
  };

  void Main() {
    std::string error = Start();
    {
      std::lock_guard<std::mutex> lock(mu_);
      start_error_ = std::move(error);
      started_ = true;
      cv_.notify_all();
      if (!start_error_.empty()) return;
    }
    for (;;) {
      Job job;
      {
        std::unique_lock<std::mutex> lock(mu_);
        cv_.wait(lock, [&] { return stop_ || jobs_.count(next_run_) != 0; });
        if (jobs_.count(next_run_) == 0) {
          // Exiting: the collectives already reserved still run (the others wait for them, and
          // the engine hands them over as their inputs get ready), for at most the timeout.
          if (next_run_ == next_ticket_.load() || !broken_.empty()) break;
          const auto deadline = std::chrono::steady_clock::now() +
                                std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                                    std::chrono::duration<double>(timeout_));
          if (!cv_.wait_until(lock, deadline, [&] { return jobs_.count(next_run_) != 0; })) {
            broken_ = "collectives were still pending at exit";
            break;
          }
        }
        auto it = jobs_.find(next_run_);
        job = std::move(it->second);
        jobs_.erase(it);
        ++next_run_;
      }
      std::exception_ptr e;
      try {
        Execute(job.c);
      } catch (...) {
        e = std::current_exception();
      }
      job.done(e);
    }
    // A collective still in flight cannot be cancelled, and MPI_Finalize would wait for it.
    // Leaving without it makes mpirun report the job as failed and stop the other workers.
    if (!broken_.empty()) return;
    // A program that initialised MPI itself finalises it, before exit: that freed ours, and any
    // MPI call after it (but this query) aborts the process.
    int finalized = 0;
    MPI_Finalized(&finalized);
    if (finalized != 0) return;
    MPI_Op_free(&half_sum_);
    MPI_Comm_free(&comm_);
    if (owns_mpi_) MPI_Finalize();
  }

  // Every MPI call happens on this thread, so MPI_THREAD_FUNNELED is all libmx needs.
  std::string Start() {
    int initialized = 0;
    MPI_Initialized(&initialized);
    if (initialized == 0) {
      // Open MPI loads its transports as plugins that expect libmpi's symbols to be global; a
      // library loaded with RTLD_LOCAL (Python's ctypes loading libmx) would hide them.
      Dl_info info;
      if (dladdr(reinterpret_cast<void*>(&MPI_Init_thread), &info) != 0 &&
          info.dli_fname != nullptr) {
        dlopen(info.dli_fname, RTLD_NOW | RTLD_GLOBAL | RTLD_NOLOAD);
      }
      int provided = 0;
      const int rc = MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided);
      if (rc != MPI_SUCCESS) return "MPI_Init_thread failed: " + MpiMessage(rc);
      owns_mpi_ = true;
    } else {
      // The program uses MPI itself, on its own threads: calls from ours as well need MULTIPLE.
      int provided = 0;
      MPI_Query_thread(&provided);
      if (provided < MPI_THREAD_MULTIPLE) {
        return "the program initialised MPI without MPI_THREAD_MULTIPLE; libmx makes its MPI "
               "calls from its own thread (initialise with MPI_Init_thread(..., "
               "MPI_THREAD_MULTIPLE, ...), or leave MPI to libmx)";
      }
    }
    // A communicator of our own: libmx's collectives never match the program's own MPI calls.
    int rc = MPI_Comm_dup(MPI_COMM_WORLD, &comm_);
    if (rc != MPI_SUCCESS) return "MPI_Comm_dup failed: " + MpiMessage(rc);
    MPI_Comm_set_errhandler(comm_, MPI_ERRORS_RETURN);
    MPI_Comm_rank(comm_, &rank_);
    MPI_Comm_size(comm_, &size_);
    MPI_Op_create(&HalfSum, 1, &half_sum_);
    return "";
  }

  void Execute(const Collective& c) {
    if (!broken_.empty()) {
      MX_THROW(kFailed) << "kvstore: cannot synchronise " << c.what << ": the workers lost step "
                        << "earlier (" << broken_ << ")";
    }
    if (c.kind == Collective::Kind::kAgree) {
      // max(v) == min(v) on every worker iff all agree; max(~v) is ~min(v).
      const uint64_t v = *static_cast<const uint64_t*>(c.segments.at(0).src);
      uint64_t both[2] = {v, ~v};
      Wait(MPI_Iallreduce(MPI_IN_PLACE, both, 2, MPI_UINT64_T, MPI_MAX, comm_, &req_), &req_, c);
      static_cast<uint64_t*>(c.segments[0].dst)[0] = both[0] == ~both[1] ? 1 : 0;
      return;
    }
    // Whether any worker's values came from a failed op: a one-int allreduce. Small messages
    // travel alongside it (both in flight at once: no extra round trip). For large ones (up to a
    // limit, below) it goes first: once it is complete every worker has reached this collective, so
    // the data can go through MPI's blocking collective, which Open MPI serves with faster
    // algorithms than the nonblocking one (bench/README.md), without a missing worker making it
    // hang.
    int failed = c.input_failed ? 1 : 0;
    MPI_Request failed_req = MPI_REQUEST_NULL;
    const int rc = MPI_Iallreduce(MPI_IN_PLACE, &failed, 1, MPI_INT, MPI_MAX, comm_, &failed_req);
    if (rc != MPI_SUCCESS) Wait(rc, &failed_req, c);
    const size_t bytes = TotalCount(c) * DTypeSize(c.dtype);
    if (bytes >= kBlockingBytes && bytes < kBlockingBytesEnd) {
      Wait(MPI_SUCCESS, &failed_req, c);
      if (failed == 0) Transfer(c, /*blocking=*/true);  // (all skip it alike otherwise)
    } else {
      Transfer(c, /*blocking=*/false);
      Wait(MPI_SUCCESS, &failed_req, c);
    }
    if (failed != 0 && !c.input_failed) {
      // (The failed worker reports its own error; its result here is as bad as ours.)
      MX_THROW(kFailed) << "kvstore: another worker's values for " << c.what
                        << " came from an operation that failed there (its error is reported "
                           "on that worker), so their sum is not valid";
    }
  }

  // Messages from kBlockingBytes up to kBlockingBytesEnd go through MPI's blocking collectives (see
  // Execute). Above that Open MPI 4.1's blocking allreduce picks an algorithm that ran 10x slower
  // than its nonblocking one here (0.2 against 2.1 GB/s at 64 MiB, bench/kvstore, 2 workers).
  static constexpr size_t kBlockingBytes = size_t{256} << 10;
  static constexpr size_t kBlockingBytesEnd = size_t{32} << 20;

  void Transfer(const Collective& c, bool blocking) {
    const MPI_Datatype type = MpiType(c.dtype);
    const size_t esize = DTypeSize(c.dtype);
    MPI_Request* const req = blocking ? nullptr : &req_;
    if (c.kind == Collective::Kind::kBroadcast) {
      const auto bcast = [&](void* p, int n) {
        return blocking ? MPI_Bcast(p, n, type, 0, comm_) : MPI_Ibcast(p, n, type, 0, comm_, req);
      };
      if (c.segments.size() == 1) {
        Chunked(c.segments[0].dst, c.segments[0].count, esize, bcast, c, req);
        return;
      }
      Pack(c, esize, /*from_dst=*/true);
      Chunked(scratch_.data(), TotalCount(c), esize, bcast, c, req);
      Unpack(c, esize);
      return;
    }
    const MPI_Op op = c.dtype == DType::kFloat16 ? half_sum_ : MPI_SUM;
    const auto in_place = [&](void* p, int n) {
      return blocking ? MPI_Allreduce(MPI_IN_PLACE, p, n, type, op, comm_)
                      : MPI_Iallreduce(MPI_IN_PLACE, p, n, type, op, comm_, req);
    };
    if (c.segments.size() > 1) {
      Pack(c, esize, /*from_dst=*/false);
      Chunked(scratch_.data(), TotalCount(c), esize, in_place, c, req);
      Unpack(c, esize);
      return;
    }
    const Collective::Segment& s = c.segments.at(0);
    if (s.src == s.dst) {
      Chunked(s.dst, s.count, esize, in_place, c, req);
      return;
    }
    // Out of place, as a program calling MPI_Allreduce itself would do it.
    const char* src = static_cast<const char*>(s.src);
    char* dst = static_cast<char*>(s.dst);
    for (size_t done = 0; done < s.count;) {
      const int n = static_cast<int>(std::min(s.count - done, kMaxCount));
      const void* from = src + done * esize;
      void* to = dst + done * esize;
      Wait(blocking ? MPI_Allreduce(from, to, n, type, op, comm_)
                    : MPI_Iallreduce(from, to, n, type, op, comm_, req),
           req, c);
      done += static_cast<size_t>(n);
    }
  }

  // MPI counts are ints: a buffer of more than kMaxCount elements goes in several collectives.
  static constexpr size_t kMaxCount = size_t{1} << 30;
  template <typename Start>
  void Chunked(void* p, size_t count, size_t esize, const Start& start, const Collective& c,
               MPI_Request* req) {
    char* base = static_cast<char*>(p);
    for (size_t done = 0; done < count;) {
      const int n = static_cast<int>(std::min(count - done, kMaxCount));
      Wait(start(base + done * esize, n), req, c);
      done += static_cast<size_t>(n);
    }
  }

  void Pack(const Collective& c, size_t esize, bool from_dst) {
    scratch_.resize(TotalCount(c) * esize);
    char* p = scratch_.data();
    for (const auto& s : c.segments) {
      std::memcpy(p, from_dst ? s.dst : s.src, s.count * esize);
      p += s.count * esize;
    }
  }
  void Unpack(const Collective& c, size_t esize) {
    const char* p = scratch_.data();
    for (const auto& s : c.segments) {
      std::memcpy(s.dst, p, s.count * esize);
      p += s.count * esize;
    }
  }

  // Polls the collective started with return code `rc` until it completes or the timeout passes.
  // Spinning on MPI_Test is what MPI_Wait does (and what drives the transfer); the clock is read
  // only now and then. A blocking collective (req == nullptr) is complete already.
  void Wait(int rc, MPI_Request* req, const Collective& c) {
    if (rc != MPI_SUCCESS) {
      if (req == nullptr) broken_ = "MPI failed: " + MpiMessage(rc);
      MX_THROW(kFailed) << "kvstore: MPI could not run the collective for " << c.what << ": "
                        << MpiMessage(rc);
    }
    if (req == nullptr) return;
    const auto start = std::chrono::steady_clock::now();
    for (uint64_t spin = 1;; ++spin) {
      int done = 0;
      rc = MPI_Test(req, &done, MPI_STATUS_IGNORE);
      if (rc != MPI_SUCCESS) {
        broken_ = "MPI failed: " + MpiMessage(rc);
        MX_THROW(kFailed) << "kvstore: the collective for " << c.what << " failed: " << broken_;
      }
      if (done != 0) return;
      if (spin % 1024 != 0) continue;
      std::this_thread::yield();  // leave the core to the engine's workers now and then
      const double waited =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      if (waited > timeout_) {
        std::ostringstream os;
        os << "worker " << rank_ << " of " << size_ << " waited " << timeout_
           << " s (MX_KVSTORE_TIMEOUT) for the others to synchronise " << c.what
           << ": a worker failed, exited, or did not make the same kvstore calls in the same order";
        broken_ = os.str();
        MX_THROW(kFailed) << "kvstore: " << broken_;
      }
    }
  }

  const double timeout_;
  std::thread thread_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool started_ = false, stop_ = false;
  std::string start_error_;
  std::map<uint64_t, Job> jobs_;  // handed over, waiting for their turn
  std::atomic<uint64_t> next_ticket_{0};
  uint64_t next_run_ = 0;
  // Communication thread only:
  bool owns_mpi_ = false;
  MPI_Comm comm_ = MPI_COMM_NULL;
  MPI_Op half_sum_ = MPI_OP_NULL;
  MPI_Request req_ = MPI_REQUEST_NULL;  // the data collective in flight
  std::vector<char> scratch_;           // fused segments
  std::string broken_;                  // why the group can no longer synchronise
  int rank_ = 0, size_ = 1;
};

std::mutex g_group_mu;
WorkerGroup* g_group = nullptr;  // lives until exit (as the engine does)
MpiGroup* g_mpi = nullptr;
std::string g_start_error;  // MPI cannot be initialised twice: a failed start is final

void ExitGroup() {
  if (g_mpi != nullptr) g_mpi->Exit();
}

}  // namespace

bool WorkerGroup::Available() { return true; }

WorkerGroup& WorkerGroup::Get() {
  std::lock_guard<std::mutex> lock(g_group_mu);
  if (g_group != nullptr) return *g_group;
  if (!LaunchedByMpi()) {
    g_group = new SoloGroup();
    return *g_group;
  }
  MX_CHECK(g_start_error.empty(), kFailed) << g_start_error;
  const double timeout = TimeoutSeconds();
  try {
    g_mpi = new MpiGroup(timeout);
  } catch (const Error& e) {
    g_start_error = e.what();
    throw;
  }
  g_group = g_mpi;
  std::atexit(&ExitGroup);
  return *g_group;
}

}  // namespace kvstore
}  // namespace mx
