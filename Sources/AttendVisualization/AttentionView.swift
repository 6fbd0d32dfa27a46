import Foundation

/// An interactive, self-contained HTML view of attention (all script and style inline, no
/// network), in the spirit of BertViz:
///
/// - **Head view**: pick a layer and heads; every query token on the left is joined to every key
///   token on the right by a line whose weight is the attention (one colour per head). Hover a
///   token to see only its lines.
/// - **Model view**: every layer × head as a thumbnail heatmap; click one to enlarge it, with
///   the tokens on its axes.
///
/// Several maps (a two-stream model's content and query streams, or an encoder's self-attention
/// beside a decoder's cross-attention) are shown side by side. For tests and scripts the page
/// sets `document.body.dataset.ready` and exposes `window.attendView` (counts of drawn tokens,
/// lines and thumbnails, and `hover(stream, side, index)`); opened with `#selftest` it exercises
/// itself and writes the results into `<pre id="attend-selftest">`.
public enum AttentionView {
    /// The HTML page for `maps`.
    public static func html(title: String, maps: [AttentionMap]) -> String {
        precondition(!maps.isEmpty, "AttentionView needs at least one attention map")
        let payload = Payload(title: title, streams: maps.map(Stream.init), viridis: ColorMap.viridisHexTable)
        let encoder = JSONEncoder()
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "1", negativeInfinity: "0", nan: "0")
        let json = String(decoding: (try? encoder.encode(payload)) ?? Data("{}".utf8), as: UTF8.self)
            .replacingOccurrences(of: "</", with: "<\\/")       // never close the script element early
        return template
            .replacingOccurrences(of: "%%TITLE%%", with: Heatmap.escape(title))
            .replacingOccurrences(of: "%%DATA%%", with: json)
    }

    private struct Payload: Encodable {
        let title: String
        let streams: [Stream]
        let viridis: [String]
    }

    private struct Stream: Encodable {
        let title: String
        let queryTokens: [String]
        let keyTokens: [String]
        /// Rounded to 4 decimals to keep the page small.
        let weights: [[[Float]]]

        init(_ map: AttentionMap) {
            title = map.title
            queryTokens = map.queryTokens
            keyTokens = map.keyTokens
            weights = map.weights.map { $0.map { $0.map { ($0 * 10_000).rounded() / 10_000 } } }
        }
    }

    private static let template = #"""
    <!DOCTYPE html>
    <html lang="en">
    <head>
    <meta charset="utf-8">
    <meta name="viewport" content="width=device-width, initial-scale=1">
    <title>%%TITLE%%</title>
    <style>
      [hidden] { display: none !important; }
      body { font: 14px/1.4 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 0; color: #222; background: #fafafa; }
      header { padding: 12px 20px; background: #30123b; color: #fff; display: flex; gap: 24px; align-items: center; flex-wrap: wrap; }
      header h1 { font-size: 18px; margin: 0; font-weight: 600; }
      .tabs button { background: transparent; color: #ddd; border: 1px solid #776; border-radius: 4px; padding: 4px 12px; cursor: pointer; }
      .tabs button.active { background: #fde725; color: #222; border-color: #fde725; }
      .controls { padding: 10px 20px; display: flex; gap: 16px; align-items: center; flex-wrap: wrap; border-bottom: 1px solid #ddd; background: #fff; }
      .heads label { display: inline-flex; align-items: center; gap: 3px; margin-right: 6px; cursor: pointer; }
      .swatch { width: 12px; height: 12px; border-radius: 2px; display: inline-block; }
      main { padding: 16px 20px; }
      .streams { display: flex; gap: 32px; flex-wrap: wrap; align-items: flex-start; }
      .stream h2 { font-size: 15px; margin: 0 0 8px; }
      .headview { position: relative; }
      .headview canvas { position: absolute; top: 0; }
      .tokens { position: absolute; top: 0; }
      .token { position: absolute; height: 18px; line-height: 18px; padding: 0 4px; white-space: nowrap; font-family: "DejaVu Sans Mono", Menlo, monospace; font-size: 12px; cursor: default; border-radius: 3px; }
      .token:hover, .token.focus { background: #fde72588; }
      .query { text-align: right; }
      .grid { display: grid; gap: 6px; }
      .grid figure { margin: 0; text-align: center; font-size: 10px; color: #666; cursor: zoom-in; }
      .grid canvas { display: block; border: 1px solid #ccc; image-rendering: pixelated; }
      .grid .rowlabel { align-self: center; font-size: 11px; color: #666; }
      #modal { position: fixed; inset: 0; background: #000a; display: none; align-items: center; justify-content: center; z-index: 10; }
      #modal.open { display: flex; }
      #modal .panel { background: #fff; padding: 16px; border-radius: 6px; max-width: 95vw; max-height: 95vh; overflow: auto; }
      #modal h3 { margin: 0 0 8px; font-size: 15px; }
      .hint { color: #777; font-size: 12px; }
    </style>
    </head>
    <body>
    <header>
      <h1 id="title"></h1>
      <div class="tabs"><button id="tab-head" class="active">Head view</button> <button id="tab-model">Model view</button></div>
    </header>
    <div class="controls" id="controls">
      <label>Layer <select id="layer"></select></label>
      <span class="heads" id="heads"></span>
      <span class="hint">Hover a token to see where it attends.</span>
    </div>
    <main>
      <div id="head-view" class="streams"></div>
      <div id="model-view" class="streams" hidden></div>
    </main>
    <div id="modal"><div class="panel"><h3 id="modal-title"></h3><canvas id="modal-canvas"></canvas><p class="hint">Click anywhere to close.</p></div></div>
    <pre id="attend-selftest" hidden></pre>
    <script id="attend-data" type="application/json">%%DATA%%</script>
    <script>
    (function () {
      "use strict";
      const data = JSON.parse(document.getElementById("attend-data").textContent);
      const headColors = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
                          "#bcbd22", "#17becf", "#393b79", "#637939", "#8c6d31", "#843c39", "#7b4173", "#3182bd"];
      const rowHeight = 20, columnGap = 140;
      const state = { layer: data.streams[0].weights.length - 1, heads: new Set(), focus: null };
      const counts = { tokens: 0, lines: 0, thumbnails: 0 };
      const headCount = data.streams[0].weights[0] ? data.streams[0].weights[0].length : 0;
      for (let h = 0; h < headCount; h++) state.heads.add(h);
      document.getElementById("title").textContent = data.title;
      document.title = data.title;

      const layerSelect = document.getElementById("layer");
      data.streams[0].weights.forEach((_, l) => {
        const option = document.createElement("option");
        option.value = l; option.textContent = l;
        layerSelect.appendChild(option);
      });
      layerSelect.value = state.layer;
      layerSelect.addEventListener("change", () => { state.layer = +layerSelect.value; drawLines(); });

      const headBoxes = document.getElementById("heads");
      for (let h = 0; h < headCount; h++) {
        const label = document.createElement("label");
        label.innerHTML = `<input type="checkbox" checked data-head="${h}"><span class="swatch" style="background:${headColors[h % headColors.length]}"></span>${h}`;
        label.querySelector("input").addEventListener("change", (e) => {
          if (e.target.checked) state.heads.add(h); else state.heads.delete(h);
          drawLines();
        });
        headBoxes.appendChild(label);
      }

      function textWidth(tokens) {
        return Math.min(180, 12 + 7.3 * Math.max(1, ...tokens.map((t) => t.length)));
      }

      // Head view: tokens as DOM elements, lines on a canvas between them.
      const headViews = data.streams.map((stream, s) => {
        const container = document.createElement("div");
        container.className = "stream";
        container.innerHTML = `<h2></h2>`;
        container.querySelector("h2").textContent = stream.title;
        const view = document.createElement("div");
        view.className = "headview";
        const left = textWidth(stream.queryTokens), right = textWidth(stream.keyTokens);
        const height = rowHeight * Math.max(stream.queryTokens.length, stream.keyTokens.length) + 4;
        view.style.width = (left + columnGap + right) + "px";
        view.style.height = height + "px";
        const canvas = document.createElement("canvas");
        canvas.width = columnGap; canvas.height = height;
        canvas.style.left = left + "px";
        view.appendChild(canvas);
        const tokens = document.createElement("div");
        tokens.className = "tokens";
        const elements = { query: [], key: [] };
        stream.queryTokens.forEach((token, i) => {
          const span = document.createElement("div");
          span.className = "token query"; span.textContent = token; span.title = token;
          span.style.top = (i * rowHeight) + "px"; span.style.left = "0px"; span.style.width = (left - 8) + "px";
          span.addEventListener("mouseenter", () => hover(s, "query", i));
          span.addEventListener("mouseleave", () => hover(null));
          tokens.appendChild(span); elements.query.push(span); counts.tokens++;
        });
        stream.keyTokens.forEach((token, j) => {
          const span = document.createElement("div");
          span.className = "token key"; span.textContent = token; span.title = token;
          span.style.top = (j * rowHeight) + "px"; span.style.left = (left + columnGap) + "px";
          span.addEventListener("mouseenter", () => hover(s, "key", j));
          span.addEventListener("mouseleave", () => hover(null));
          tokens.appendChild(span); elements.key.push(span); counts.tokens++;
        });
        view.appendChild(tokens);
        container.appendChild(view);
        document.getElementById("head-view").appendChild(container);
        return { stream, canvas, elements };
      });

      function drawLines() {
        counts.lines = 0;
        headViews.forEach((view, s) => {
          const context = view.canvas.getContext("2d");
          context.clearRect(0, 0, view.canvas.width, view.canvas.height);
          const stream = view.stream, keys = stream.keyTokens.length;
          const heads = stream.weights[state.layer] || [];
          const focus = state.focus && state.focus.stream === s ? state.focus : null;
          Object.values(view.elements).flat().forEach((e) => e.classList.remove("focus"));
          if (focus) view.elements[focus.side][focus.index].classList.add("focus");
          const perHead = Math.max(1, state.heads.size);
          heads.forEach((matrix, h) => {
            if (!state.heads.has(h)) return;
            context.strokeStyle = headColors[h % headColors.length];
            for (let i = 0; i < stream.queryTokens.length; i++) {
              if (focus && focus.side === "query" && focus.index !== i) continue;
              for (let j = 0; j < keys; j++) {
                if (focus && focus.side === "key" && focus.index !== j) continue;
                const w = matrix[i * keys + j];
                if (w < 0.01) continue;
                context.globalAlpha = Math.min(1, focus ? w : w / Math.sqrt(perHead));
                context.lineWidth = focus ? 1 + 3 * w : 1.5;
                context.beginPath();
                context.moveTo(0, i * rowHeight + rowHeight / 2);
                context.lineTo(columnGap, j * rowHeight + rowHeight / 2);
                context.stroke();
                counts.lines++;
              }
            }
          });
          context.globalAlpha = 1;
        });
      }

      function hover(stream, side, index) {
        state.focus = stream === null || stream === undefined ? null : { stream, side, index };
        drawLines();
      }

      // Model view: layers × heads thumbnails; click to enlarge.
      function paint(canvas, matrix, rows, columns, cell) {
        canvas.width = columns * cell; canvas.height = rows * cell;
        const context = canvas.getContext("2d");
        const top = Math.max(1e-9, ...matrix);
        for (let i = 0; i < rows; i++) for (let j = 0; j < columns; j++) {
          const v = Math.max(0, Math.min(255, Math.round(255 * matrix[i * columns + j] / top)));
          context.fillStyle = data.viridis[v];
          context.fillRect(j * cell, i * cell, cell, cell);
        }
      }

      data.streams.forEach((stream) => {
        const container = document.createElement("div");
        container.className = "stream";
        container.innerHTML = "<h2></h2>";
        container.querySelector("h2").textContent = stream.title;
        const grid = document.createElement("div");
        grid.className = "grid";
        grid.style.gridTemplateColumns = `auto repeat(${headCount}, auto)`;
        const rows = stream.queryTokens.length, columns = stream.keyTokens.length;
        const cell = Math.max(1, Math.floor(64 / Math.max(rows, columns)));
        stream.weights.forEach((heads, l) => {
          const label = document.createElement("div");
          label.className = "rowlabel"; label.textContent = "layer " + l;
          grid.appendChild(label);
          heads.forEach((matrix, h) => {
            const figure = document.createElement("figure");
            const canvas = document.createElement("canvas");
            paint(canvas, matrix, rows, columns, cell);
            figure.appendChild(canvas);
            const caption = document.createElement("figcaption");
            caption.textContent = "head " + h;
            figure.appendChild(caption);
            figure.addEventListener("click", () => enlarge(stream, l, h));
            grid.appendChild(figure);
            counts.thumbnails++;
          });
        });
        container.appendChild(grid);
        document.getElementById("model-view").appendChild(container);
      });

      const modal = document.getElementById("modal");
      modal.addEventListener("click", () => modal.classList.remove("open"));
      function enlarge(stream, layer, head) {
        const rows = stream.queryTokens.length, columns = stream.keyTokens.length;
        const cell = Math.max(6, Math.min(32, Math.floor(560 / Math.max(rows, columns))));
        const labelWidth = 8 + 7 * Math.min(14, Math.max(...stream.queryTokens.map((t) => t.length), 1));
        const labelHeight = 8 + 7 * Math.min(14, Math.max(...stream.keyTokens.map((t) => t.length), 1));
        const canvas = document.getElementById("modal-canvas");
        canvas.width = labelWidth + columns * cell; canvas.height = labelHeight + rows * cell;
        const context = canvas.getContext("2d");
        context.fillStyle = "#fff"; context.fillRect(0, 0, canvas.width, canvas.height);
        const matrix = stream.weights[layer][head], top = Math.max(1e-9, ...matrix);
        for (let i = 0; i < rows; i++) for (let j = 0; j < columns; j++) {
          context.fillStyle = data.viridis[Math.round(255 * Math.max(0, matrix[i * columns + j]) / top)];
          context.fillRect(labelWidth + j * cell, labelHeight + i * cell, cell, cell);
        }
        context.fillStyle = "#222"; context.font = "11px monospace"; context.textBaseline = "middle";
        const short = (t) => t.length > 14 ? t.slice(0, 13) + "…" : t;
        context.textAlign = "right";
        stream.queryTokens.forEach((t, i) => context.fillText(short(t), labelWidth - 4, labelHeight + i * cell + cell / 2));
        context.save(); context.textAlign = "left";
        stream.keyTokens.forEach((t, j) => {
          context.save();
          context.translate(labelWidth + j * cell + cell / 2, labelHeight - 4);
          context.rotate(-Math.PI / 2);
          context.fillText(short(t), 0, 0);
          context.restore();
        });
        context.restore();
        document.getElementById("modal-title").textContent = `${stream.title} — layer ${layer}, head ${head}`;
        modal.classList.add("open");
      }

      const tabs = { head: document.getElementById("tab-head"), model: document.getElementById("tab-model") };
      function show(which) {
        document.getElementById("head-view").hidden = which !== "head";
        document.getElementById("model-view").hidden = which !== "model";
        document.getElementById("controls").hidden = which !== "head";
        tabs.head.classList.toggle("active", which === "head");
        tabs.model.classList.toggle("active", which === "model");
      }
      tabs.head.addEventListener("click", () => show("head"));
      tabs.model.addEventListener("click", () => show("model"));

      drawLines();
      window.attendView = {
        ready: true, counts,
        hover: (stream, side, index) => hover(stream, side, index),
        enlarge: (stream, layer, head) => enlarge(data.streams[stream], layer, head),
        show,
      };
      document.body.dataset.ready = "true";

      if (location.hash === "#selftest") {
        const result = { ready: true, tokens: counts.tokens, thumbnails: counts.thumbnails, lines: counts.lines, streams: data.streams.length };
        const firstQuery = document.querySelector(".token.query");
        firstQuery.dispatchEvent(new MouseEvent("mouseenter"));
        result.linesWhileHovering = counts.lines;
        result.focused = document.querySelectorAll(".token.focus").length;
        firstQuery.dispatchEvent(new MouseEvent("mouseleave"));
        result.linesAfterHover = counts.lines;
        document.querySelector(".grid figure").dispatchEvent(new MouseEvent("click"));
        result.modalOpen = modal.classList.contains("open");
        modal.classList.remove("open");
        const pre = document.getElementById("attend-selftest");
        pre.textContent = JSON.stringify(result);
      }
    })();
    </script>
    </body>
    </html>
    """#
}

extension ColorMap {
    /// The viridis table as `#rrggbb` strings, for the page's canvases.
    static var viridisHexTable: [String] {
        (0..<256).map { i in RGB(viridisTable[3 * i], viridisTable[3 * i + 1], viridisTable[3 * i + 2]).hex }
    }
}
