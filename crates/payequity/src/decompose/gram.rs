//! Streaming accumulation of weighted cross-products in blocks of rows: one matrix product per block instead
//! of one rank-one update per row (the fast path of every pass over the rows of a decomposition).

use ndarray::linalg::general_mat_mul;
use ndarray::{s, Array2, ArrayView2};

use crate::stats::Moments;

/// Rows per matrix product in [`GramAccumulator`]: small enough to stay in cache, large enough for GEMM.
const GRAM_BLOCK: usize = 512;

/// Streams design rows into [`Moments`] with one matrix product per block: rows √w·[x, y] are buffered and
/// G += BᵀB gives X'WX, X'Wy and y'Wy at once; with the constant in column 0, Σw = G₀₀ and Σw·x = G·₀.
pub(super) struct GramAccumulator {
    k: usize,
    buffer: Vec<f64>,
    gram: Array2<f64>,
    n: u64,
    sum_w2: f64,
}

impl GramAccumulator {
    pub(super) fn new(k: usize) -> GramAccumulator {
        GramAccumulator {
            k,
            buffer: Vec::with_capacity(GRAM_BLOCK * (k + 1)),
            gram: Array2::zeros((k + 1, k + 1)),
            n: 0,
            sum_w2: 0.0,
        }
    }

    pub(super) fn push(&mut self, x: &[f64], y: f64, w: f64) {
        let root = w.sqrt();
        self.buffer.extend(x.iter().map(|v| v * root));
        self.buffer.push(y * root);
        self.n += 1;
        self.sum_w2 += w * w;
        if self.buffer.len() == GRAM_BLOCK * (self.k + 1) {
            self.flush();
        }
    }

    fn flush(&mut self) {
        let rows = self.buffer.len() / (self.k + 1);
        if rows > 0 {
            let block = ArrayView2::from_shape((rows, self.k + 1), &self.buffer).expect("k + 1 values per row");
            general_mat_mul(1.0, &block.t(), &block, 1.0, &mut self.gram);
            self.buffer.clear();
        }
    }

    /// Σ rowsᵢ rowsᵢ' over the pushed rows (without the outcome column).
    pub(super) fn raw_gram(mut self) -> Array2<f64> {
        self.flush();
        self.gram.slice(s![..self.k, ..self.k]).to_owned()
    }

    pub(super) fn finish(mut self) -> Moments {
        self.flush();
        let k = self.k;
        let mut m = Moments::new(k);
        m.n = self.n;
        m.sum_w2 = self.sum_w2;
        m.xtwx.assign(&self.gram.slice(s![..k, ..k]));
        m.xtwy.assign(&self.gram.slice(s![..k, k]));
        m.ytwy = self.gram[[k, k]];
        m.sum_wx.assign(&self.gram.slice(s![..k, 0]));
        m.sum_w = self.gram[[0, 0]];
        if self.n == 0 {
            m.sum_w = 0.0;
        }
        m
    }
}
