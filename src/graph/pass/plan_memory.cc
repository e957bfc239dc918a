// PlanMemory: gives every internal entry a storage id, sharing storage between entries whose
// lifetimes do not overlap (docs/design/memory_planning.md).
//
// Nodes run in index order. An entry is live from the node that writes it to its last reader;
// reference counts over readers say when that is. For each node, outputs are placed first (so
// they never land on an input still being read), then inputs whose last reader this was release
// their storage to a free list:
//   1. in place: an output takes the storage of an input the op may overwrite (op->inplace) when
//      this node is that input's last reader and the sizes match;
//   2. otherwise the free block closest in size (best fit within a factor kMatchRange; a smaller
//      block grows to fit);
//   3. otherwise a new storage id.
// Arrays the caller owns (external entries) are never shared or overwritten.
#include <iomanip>
#include <iterator>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "graph/graph.h"
#include "op/op.h"

namespace mx {
namespace {

// A free block is only reused for a request within this size factor (NNVM's match_range): a
// huge block serving a tiny entry would be missing when the next huge entry comes.
constexpr size_t kMatchRange = 16;

size_t EntryBytes(const Graph& g, uint32_t eid, const Node& node, uint32_t index) {
  const Shape& s = g.shapes.at(eid);
  const int t = g.dtypes.at(eid);
  MX_CHECK(s.IsKnown() && t >= 0, kInvalidArgument)
      << "memory planning: output " << index << " of node '" << node.attrs.name
      << "' has unknown shape " << s << " or type; infer shapes and types first";
  return ByteSize(s, DTypeSize(static_cast<DType>(t)));
}

class Planner {
 public:
  Planner(Graph* g, const PlanOptions& options) : g_(g), idx_(g->indexed()) {
    const size_t n = idx_.num_entries();
    g_->storage_id.assign(n, kUnassigned);
    g_->inplace_of.assign(n, -1);
    g_->storage_bytes.clear();
    bytes_.assign(n, 0);
    readers_.assign(n, 0);
    for (uint32_t eid : options.null_entries) Mark(eid, kNullStorage, "null");
    for (uint32_t eid : options.external_entries) Mark(eid, kExternalStorage, "external");
    for (const IndexedGraph::Entry& e : idx_.outputs()) {
      MX_CHECK(g_->storage_id[idx_.entry_id(e)] == kExternalStorage, kInvalidArgument)
          << "memory planning: graph output " << e.index << " of node '"
          << idx_[e.node_id].node->attrs.name << "' must be an external entry";
    }
    for (uint32_t nid = 0; nid < idx_.num_nodes(); ++nid) {
      for (const IndexedGraph::Entry& e : idx_[nid].inputs) ++readers_[idx_.entry_id(e)];
    }
    for (uint32_t eid : options.null_entries) {
      MX_CHECK(readers_[eid] == 0, kInvalidArgument)
          << "memory planning: entry " << eid << " is listed as null but is read";
    }
  }

  void Run() {
    for (uint32_t nid = 0; nid < idx_.num_nodes(); ++nid) {
      const IndexedGraph::INode& inode = idx_[nid];
      const uint32_t n_out = static_cast<uint32_t>(inode.node->num_outputs());
      const uint32_t out0 = idx_.entry_id(nid, 0);
      std::vector<char> taken(inode.inputs.size(), 0);  // inputs already overwritten in place
      for (uint32_t o = 0; o < n_out; ++o) {
        const uint32_t eid = out0 + o;
        if (g_->storage_id[eid] != kUnassigned) continue;  // external or null
        bytes_[eid] = EntryBytes(*g_, eid, *inode.node, o);
        if (!PlaceInplace(inode, o, eid, &taken)) g_->storage_id[eid] = Allocate(bytes_[eid]);
      }
      for (size_t i = 0; i < inode.inputs.size(); ++i) {
        const uint32_t in = idx_.entry_id(inode.inputs[i]);
        // An input overwritten in place handed its storage on; it must not be freed.
        if (--readers_[in] == 0 && !taken[i]) Release(in);
      }
      for (uint32_t o = 0; o < n_out; ++o) {
        if (readers_[out0 + o] == 0) Release(out0 + o);  // written but never read
      }
    }
    size_t planned = 0, naive = 0;
    for (size_t b : g_->storage_bytes) planned += b;
    for (uint32_t eid = 0; eid < idx_.num_entries(); ++eid) {
      if (g_->storage_id[eid] >= 0) naive += bytes_[eid];
    }
    g_->planned_bytes = planned;
    g_->naive_bytes = naive;
  }

 private:
  static constexpr int kUnassigned = -3;

  void Mark(uint32_t eid, int kind, const char* what) {
    MX_CHECK(eid < idx_.num_entries(), kInvalidArgument)
        << "memory planning: " << what << " entry " << eid << " is not in the graph ("
        << idx_.num_entries() << " entries)";
    g_->storage_id[eid] = kind;
  }

  bool PlaceInplace(const IndexedGraph::INode& inode, uint32_t o, uint32_t eid,
                    std::vector<char>* taken) {
    const Node& n = *inode.node;
    if (n.is_variable() || !n.attrs.op->inplace) return false;
    for (const auto& [i, out] : n.attrs.op->inplace(n.attrs)) {
      if (out != static_cast<int>(o) || (*taken)[i]) continue;
      const uint32_t in = idx_.entry_id(inode.inputs[i]);
      // The input must be ours to overwrite, read by nobody after this node (a node reading it
      // twice counts twice, so `readers_ == 1` also rules out reading it as another input), and
      // fill the output exactly.
      if (g_->storage_id[in] < 0 || readers_[in] != 1 || bytes_[in] != bytes_[eid]) continue;
      g_->storage_id[eid] = g_->storage_id[in];
      g_->inplace_of[eid] = static_cast<int>(in);
      (*taken)[i] = 1;
      return true;
    }
    return false;
  }

  int Allocate(size_t bytes) {
    // Best fit: the smallest free block of at least `bytes` within the match range, else the
    // largest smaller one in range, grown (growing never costs more than a new block).
    auto fit = free_.lower_bound(bytes);
    if (fit != free_.end() && fit->first / kMatchRange > bytes) fit = free_.end();
    if (fit == free_.end()) {
      auto below = free_.lower_bound(bytes);
      if (below != free_.begin() && std::prev(below)->first * kMatchRange >= bytes) {
        fit = std::prev(below);
      }
    }
    if (fit == free_.end()) {
      g_->storage_bytes.push_back(bytes);
      return static_cast<int>(g_->storage_bytes.size() - 1);
    }
    const int sid = fit->second;
    free_.erase(fit);
    if (g_->storage_bytes[sid] < bytes) g_->storage_bytes[sid] = bytes;
    return sid;
  }

  void Release(uint32_t eid) {
    const int sid = g_->storage_id[eid];
    if (sid < 0) return;  // external and null entries never enter the free list
    free_.emplace(g_->storage_bytes[sid], sid);
  }

  Graph* g_;
  const IndexedGraph& idx_;
  std::vector<size_t> bytes_;        // by entry id; 0 for external and null entries
  std::vector<int> readers_;         // by entry id: readers not run yet
  std::multimap<size_t, int> free_;  // free blocks: bytes -> storage id
};

}  // namespace

void PlanMemory(Graph* g, const PlanOptions& options) {
  MX_CHECK(g->shapes.size() == g->indexed().num_entries() &&
               g->dtypes.size() == g->indexed().num_entries(),
           kInvalidArgument)
      << "memory planning needs shapes and types: run InferShape and InferType first";
  Planner(g, options).Run();
}

std::string DumpMemoryPlan(const Graph& g) {
  const IndexedGraph& idx = g.indexed();
  std::ostringstream os;
  for (uint32_t nid = 0; nid < idx.num_nodes(); ++nid) {
    const Node& n = *idx[nid].node;
    for (uint32_t o = 0; o < static_cast<uint32_t>(n.num_outputs()); ++o) {
      const uint32_t eid = idx.entry_id(nid, o);
      const int sid = eid < g.storage_id.size() ? g.storage_id[eid] : kNullStorage;
      const Shape& s = g.shapes.at(eid);
      const int t = g.dtypes.at(eid);
      os << std::left << std::setw(32) << (n.attrs.name + "[" + std::to_string(o) + "]") << " "
         << std::setw(16) << s.ToString() << " " << std::setw(8)
         << (t >= 0 ? DTypeName(static_cast<DType>(t)) : "?") << " ";
      if (sid == kExternalStorage) {
        os << "external";
      } else if (sid == kNullStorage) {
        os << "null";
      } else {
        const size_t bytes =
            s.IsKnown() && t >= 0 ? ByteSize(s, DTypeSize(static_cast<DType>(t))) : 0;
        os << "storage " << sid << " " << bytes << " bytes";
        if (eid < g.inplace_of.size() && g.inplace_of[eid] >= 0) {
          os << " (in place of entry " << g.inplace_of[eid] << ")";
        }
      }
      if (eid < g.layouts.size() && g.layouts[eid] == Layout::kBlocked16) os << " nChw16c";
      os << "\n";
    }
  }
  os << "planned " << g.planned_bytes << " bytes in " << g.storage_bytes.size()
     << " storage blocks, naive " << g.naive_bytes << " bytes";
  if (g.naive_bytes > 0) {
    os << " (ratio " << std::fixed << std::setprecision(3)
       << static_cast<double>(g.planned_bytes) / static_cast<double>(g.naive_bytes) << ")";
  }
  os << "\n";
  return os.str();
}

}  // namespace mx
