// Memory planning: bytes of intermediate values as planned vs one buffer per value (naive).
//
// For each network, for inference (forward only) and training (forward plus the gradients of
// every weight and bias with respect to the loss), the graph is planned the way an executor binds
// it: arguments, labels, gradients and the graph's outputs belong to the caller (external, not
// counted); outputs nobody reads (the data gradient of the first layer) are skipped (null).
// Figures: planned bytes, naive bytes, ratio planned / naive.
// Budget (issue 5, DESIGN.md): on the deep MLP, inference <= 0.25 and training <= 0.5.
// Exits non-zero when over budget.
#include <cstdio>
#include <cstdlib>
#include <set>
#include <string>
#include <vector>

#include "base/dtype.h"
#include "graph/graph.h"
#include "graph/node.h"

namespace {

using mx::Graph;
using mx::NodeEntry;

struct Net {
  std::string name;
  NodeEntry loss;
  NodeEntry data;
  mx::Shape data_shape;
  std::vector<NodeEntry> params;  // weights and biases, in layer order
};

NodeEntry Var(const std::string& name) { return NodeEntry{mx::MakeVariable(name), 0}; }

// data -> [FullyConnected(h) -> relu] for each hidden h -> FullyConnected(classes) ->
// SoftmaxOutput.
Net Mlp(const std::string& name, int batch, int input, const std::vector<int>& hidden,
        int classes) {
  Net net;
  net.name = name;
  net.data = Var("data");
  net.data_shape = mx::Shape{batch, input};
  NodeEntry x = net.data;
  std::vector<int> widths = hidden;
  widths.push_back(classes);
  for (size_t i = 0; i < widths.size(); ++i) {
    const std::string fc = "fc" + std::to_string(i + 1);
    NodeEntry w = Var(fc + "_weight"), b = Var(fc + "_bias");
    net.params.push_back(w);
    net.params.push_back(b);
    x = mx::MakeEntry("FullyConnected", fc, {x, w, b}, {{"num_hidden", std::to_string(widths[i])}});
    if (i + 1 < widths.size()) {
      x = mx::MakeEntry("Activation", "relu" + std::to_string(i + 1), {x}, {{"act_type", "relu"}});
    }
  }
  net.loss = mx::MakeEntry("SoftmaxOutput", "softmax", {x, Var("softmax_label")});
  return net;
}

struct Figures {
  size_t planned, naive, blocks;
  double ratio() const { return naive ? static_cast<double>(planned) / naive : 0.0; }
};

Figures Plan(const Net& net, bool training) {
  std::vector<NodeEntry> outputs = {net.loss};
  if (training) {
    for (const NodeEntry& g : mx::Gradient({net.loss}, {NodeEntry{}}, net.params)) {
      outputs.push_back(g);
    }
  }
  Graph g = Graph::FromOutputs(outputs);
  const mx::IndexedGraph& idx = g.indexed();
  const uint32_t data = idx.entry_id(idx.node_id(net.data.node.get()), 0);
  g.shapes[data] = net.data_shape;
  g.dtypes[data] = static_cast<int>(mx::DType::kFloat32);
  if (mx::InferShape(&g) != 0 || mx::InferType(&g) != 0) {
    std::fprintf(stderr, "%s: shapes or types left unknown\n", net.name.c_str());
    std::exit(2);
  }
  mx::PlanOptions opt;
  std::set<uint32_t> external;
  for (uint32_t nid : idx.input_nodes()) external.insert(idx.entry_id(nid, 0));
  for (const auto& e : idx.outputs()) external.insert(idx.entry_id(e));
  opt.external_entries.assign(external.begin(), external.end());
  std::vector<int> readers(idx.num_entries(), 0);
  for (uint32_t nid = 0; nid < idx.num_nodes(); ++nid) {
    for (const auto& e : idx[nid].inputs) ++readers[idx.entry_id(e)];
  }
  for (uint32_t eid = 0; eid < idx.num_entries(); ++eid) {
    if (readers[eid] == 0 && !external.count(eid)) opt.null_entries.push_back(eid);
  }
  mx::PlanMemory(&g, opt);
  if (std::getenv("MX_BENCH_DUMP")) std::fputs(mx::DumpMemoryPlan(g).c_str(), stdout);
  return {g.planned_bytes, g.naive_bytes, g.storage_bytes.size()};
}

}  // namespace

int main() {
  const std::vector<Net> nets = {
      Mlp("mnist mlp 784-128-10, batch 128", 128, 784, {128}, 10),
      Mlp("deep mlp 10x1024, batch 128", 128, 1024, std::vector<int>(10, 1024), 10)};
  std::printf("%-34s %-10s %12s %12s %7s %7s\n", "network", "mode", "planned", "naive", "blocks",
              "ratio");
  bool ok = true;
  for (size_t n = 0; n < nets.size(); ++n) {
    for (bool training : {false, true}) {
      const Figures f = Plan(nets[n], training);
      const bool deep = n == 1;
      const double budget = training ? 0.5 : 0.25;
      std::printf("%-34s %-10s %12zu %12zu %7zu %7.3f%s\n", nets[n].name.c_str(),
                  training ? "training" : "inference", f.planned, f.naive, f.blocks, f.ratio(),
                  deep ? (f.ratio() <= budget ? "  (budget ok)" : "  (OVER BUDGET)") : "");
      if (deep && f.ratio() > budget) ok = false;
    }
  }
  return ok ? 0 : 1;
}
