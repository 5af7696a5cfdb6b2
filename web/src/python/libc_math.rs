//! `exp`, `log`, `log2`, `log10` and `pow` as the C library CPython calls
//! computes them, so that a program prints the same digits in the page as
//! in CPython.
//!
//! Natively Rust's `f64::exp`, `ln` and the rest are glibc's, CPython's
//! own; in the browser they are Rust's libm (musl's older code), which
//! differs from glibc in the last place for a few percent of arguments
//! (`math.exp(1.0)` printed 2.7182818284590455 in the page,
//! 2.718281828459045 in CPython). glibc's `exp`, `log`, `log2` and `pow`
//! are Arm's optimized routines (github.com/ARM-software/optimized-routines,
//! math/exp.c, log.c, log2.c and pow.c, MIT OR Apache-2.0 WITH
//! LLVM-exception): their tables are copied here and their code written out
//! as glibc's x86-64 build runs it on a CPU with fused multiply-add (GCC
//! contracts `a * b + c` into one), which is what CPython gets on such a
//! machine; its `log10` is fdlibm's formula over that `log`. The test below
//! holds them to glibc's results bit for bit.

// The tables' bit patterns are the source's hexadecimal floats.
#![allow(clippy::unreadable_literal, clippy::excessive_precision)]

mod exp_data {
    pub(super) const INV_LN2_N: f64 = f64::from_bits(0x40671547652b82fe); // 0x1.71547652b82fep+7
    pub(super) const NEG_LN2_HI_N: f64 = f64::from_bits(0xbf762e42fefa0000); // -0x1.62e42fefa0000p-8
    pub(super) const NEG_LN2_LO_N: f64 = f64::from_bits(0xbd0cf79abc9e3b3a); // -0x1.cf79abc9e3b3ap-47
    pub(super) const SHIFT: f64 = f64::from_bits(0x4338000000000000); // 0x1.8000000000000p+52
    /// C2..C5.
    pub(super) const C: [f64; 4] = [
        f64::from_bits(0x3fdffffffffffdbd),
        f64::from_bits(0x3fc555555555543c),
        f64::from_bits(0x3fa55555cf172b91),
        f64::from_bits(0x3f81111167a4d017),
    ];
    /// tab[2k]: the tail of 2^(k/128); tab[2k+1]: its bits minus k << 45.
    pub(super) static T: [u64; 256] = [
        0x0,
        0x3ff0000000000000,
        0x3c9b3b4f1a88bf6e,
        0x3feff63da9fb3335,
        0xbc7160139cd8dc5d,
        0x3fefec9a3e778061,
        0xbc905e7a108766d1,
        0x3fefe315e86e7f85,
        0x3c8cd2523567f613,
        0x3fefd9b0d3158574,
        0xbc8bce8023f98efa,
        0x3fefd06b29ddf6de,
        0x3c60f74e61e6c861,
        0x3fefc74518759bc8,
        0x3c90a3e45b33d399,
        0x3fefbe3ecac6f383,
        0x3c979aa65d837b6d,
        0x3fefb5586cf9890f,
        0x3c8eb51a92fdeffc,
        0x3fefac922b7247f7,
        0x3c3ebe3d702f9cd1,
        0x3fefa3ec32d3d1a2,
        0xbc6a033489906e0b,
        0x3fef9b66affed31b,
        0xbc9556522a2fbd0e,
        0x3fef9301d0125b51,
        0xbc5080ef8c4eea55,
        0x3fef8abdc06c31cc,
        0xbc91c923b9d5f416,
        0x3fef829aaea92de0,
        0x3c80d3e3e95c55af,
        0x3fef7a98c8a58e51,
        0xbc801b15eaa59348,
        0x3fef72b83c7d517b,
        0xbc8f1ff055de323d,
        0x3fef6af9388c8dea,
        0x3c8b898c3f1353bf,
        0x3fef635beb6fcb75,
        0xbc96d99c7611eb26,
        0x3fef5be084045cd4,
        0x3c9aecf73e3a2f60,
        0x3fef54873168b9aa,
        0xbc8fe782cb86389d,
        0x3fef4d5022fcd91d,
        0x3c8a6f4144a6c38d,
        0x3fef463b88628cd6,
        0x3c807a05b0e4047d,
        0x3fef3f49917ddc96,
        0x3c968efde3a8a894,
        0x3fef387a6e756238,
        0x3c875e18f274487d,
        0x3fef31ce4fb2a63f,
        0x3c80472b981fe7f2,
        0x3fef2b4565e27cdd,
        0xbc96b87b3f71085e,
        0x3fef24dfe1f56381,
        0x3c82f7e16d09ab31,
        0x3fef1e9df51fdee1,
        0xbc3d219b1a6fbffa,
        0x3fef187fd0dad990,
        0x3c8b3782720c0ab4,
        0x3fef1285a6e4030b,
        0x3c6e149289cecb8f,
        0x3fef0cafa93e2f56,
        0x3c834d754db0abb6,
        0x3fef06fe0a31b715,
        0x3c864201e2ac744c,
        0x3fef0170fc4cd831,
        0x3c8fdd395dd3f84a,
        0x3feefc08b26416ff,
        0xbc86a3803b8e5b04,
        0x3feef6c55f929ff1,
        0xbc924aedcc4b5068,
        0x3feef1a7373aa9cb,
        0xbc9907f81b512d8e,
        0x3feeecae6d05d866,
        0xbc71d1e83e9436d2,
        0x3feee7db34e59ff7,
        0xbc991919b3ce1b15,
        0x3feee32dc313a8e5,
        0x3c859f48a72a4c6d,
        0x3feedea64c123422,
        0xbc9312607a28698a,
        0x3feeda4504ac801c,
        0xbc58a78f4817895b,
        0x3feed60a21f72e2a,
        0xbc7c2c9b67499a1b,
        0x3feed1f5d950a897,
        0x3c4363ed60c2ac11,
        0x3feece086061892d,
        0x3c9666093b0664ef,
        0x3feeca41ed1d0057,
        0x3c6ecce1daa10379,
        0x3feec6a2b5c13cd0,
        0x3c93ff8e3f0f1230,
        0x3feec32af0d7d3de,
        0x3c7690cebb7aafb0,
        0x3feebfdad5362a27,
        0x3c931dbdeb54e077,
        0x3feebcb299fddd0d,
        0xbc8f94340071a38e,
        0x3feeb9b2769d2ca7,
        0xbc87deccdc93a349,
        0x3feeb6daa2cf6642,
        0xbc78dec6bd0f385f,
        0x3feeb42b569d4f82,
        0xbc861246ec7b5cf6,
        0x3feeb1a4ca5d920f,
        0x3c93350518fdd78e,
        0x3feeaf4736b527da,
        0x3c7b98b72f8a9b05,
        0x3feead12d497c7fd,
        0x3c9063e1e21c5409,
        0x3feeab07dd485429,
        0x3c34c7855019c6ea,
        0x3feea9268a5946b7,
        0x3c9432e62b64c035,
        0x3feea76f15ad2148,
        0xbc8ce44a6199769f,
        0x3feea5e1b976dc09,
        0xbc8c33c53bef4da8,
        0x3feea47eb03a5585,
        0xbc845378892be9ae,
        0x3feea34634ccc320,
        0xbc93cedd78565858,
        0x3feea23882552225,
        0x3c5710aa807e1964,
        0x3feea155d44ca973,
        0xbc93b3efbf5e2228,
        0x3feea09e667f3bcd,
        0xbc6a12ad8734b982,
        0x3feea012750bdabf,
        0xbc6367efb86da9ee,
        0x3fee9fb23c651a2f,
        0xbc80dc3d54e08851,
        0x3fee9f7df9519484,
        0xbc781f647e5a3ecf,
        0x3fee9f75e8ec5f74,
        0xbc86ee4ac08b7db0,
        0x3fee9f9a48a58174,
        0xbc8619321e55e68a,
        0x3fee9feb564267c9,
        0x3c909ccb5e09d4d3,
        0x3feea0694fde5d3f,
        0xbc7b32dcb94da51d,
        0x3feea11473eb0187,
        0x3c94ecfd5467c06b,
        0x3feea1ed0130c132,
        0x3c65ebe1abd66c55,
        0x3feea2f336cf4e62,
        0xbc88a1c52fb3cf42,
        0x3feea427543e1a12,
        0xbc9369b6f13b3734,
        0x3feea589994cce13,
        0xbc805e843a19ff1e,
        0x3feea71a4623c7ad,
        0xbc94d450d872576e,
        0x3feea8d99b4492ed,
        0x3c90ad675b0e8a00,
        0x3feeaac7d98a6699,
        0x3c8db72fc1f0eab4,
        0x3feeace5422aa0db,
        0xbc65b6609cc5e7ff,
        0x3feeaf3216b5448c,
        0x3c7bf68359f35f44,
        0x3feeb1ae99157736,
        0xbc93091fa71e3d83,
        0x3feeb45b0b91ffc6,
        0xbc5da9b88b6c1e29,
        0x3feeb737b0cdc5e5,
        0xbc6c23f97c90b959,
        0x3feeba44cbc8520f,
        0xbc92434322f4f9aa,
        0x3feebd829fde4e50,
        0xbc85ca6cd7668e4b,
        0x3feec0f170ca07ba,
        0x3c71affc2b91ce27,
        0x3feec49182a3f090,
        0x3c6dd235e10a73bb,
        0x3feec86319e32323,
        0xbc87c50422622263,
        0x3feecc667b5de565,
        0x3c8b1c86e3e231d5,
        0x3feed09bec4a2d33,
        0xbc91bbd1d3bcbb15,
        0x3feed503b23e255d,
        0x3c90cc319cee31d2,
        0x3feed99e1330b358,
        0x3c8469846e735ab3,
        0x3feede6b5579fdbf,
        0xbc82dfcd978e9db4,
        0x3feee36bbfd3f37a,
        0x3c8c1a7792cb3387,
        0x3feee89f995ad3ad,
        0xbc907b8f4ad1d9fa,
        0x3feeee07298db666,
        0xbc55c3d956dcaeba,
        0x3feef3a2b84f15fb,
        0xbc90a40e3da6f640,
        0x3feef9728de5593a,
        0xbc68d6f438ad9334,
        0x3feeff76f2fb5e47,
        0xbc91eee26b588a35,
        0x3fef05b030a1064a,
        0x3c74ffd70a5fddcd,
        0x3fef0c1e904bc1d2,
        0xbc91bdfbfa9298ac,
        0x3fef12c25bd71e09,
        0x3c736eae30af0cb3,
        0x3fef199bdd85529c,
        0x3c8ee3325c9ffd94,
        0x3fef20ab5fffd07a,
        0x3c84e08fd10959ac,
        0x3fef27f12e57d14b,
        0x3c63cdaf384e1a67,
        0x3fef2f6d9406e7b5,
        0x3c676b2c6c921968,
        0x3fef3720dcef9069,
        0xbc808a1883ccb5d2,
        0x3fef3f0b555dc3fa,
        0xbc8fad5d3ffffa6f,
        0x3fef472d4a07897c,
        0xbc900dae3875a949,
        0x3fef4f87080d89f2,
        0x3c74a385a63d07a7,
        0x3fef5818dcfba487,
        0xbc82919e2040220f,
        0x3fef60e316c98398,
        0x3c8e5a50d5c192ac,
        0x3fef69e603db3285,
        0x3c843a59ac016b4b,
        0x3fef7321f301b460,
        0xbc82d52107b43e1f,
        0x3fef7c97337b9b5f,
        0xbc892ab93b470dc9,
        0x3fef864614f5a129,
        0x3c74b604603a88d3,
        0x3fef902ee78b3ff6,
        0x3c83c5ec519d7271,
        0x3fef9a51fbc74c83,
        0xbc8ff7128fd391f0,
        0x3fefa4afa2a490da,
        0xbc8dae98e223747d,
        0x3fefaf482d8e67f1,
        0x3c8ec3bc41aa2008,
        0x3fefba1bee615a27,
        0x3c842b94c3a9eb32,
        0x3fefc52b376bba97,
        0x3c8a64a931d185ee,
        0x3fefd0765b6e4540,
        0xbc8e37bae43be3ed,
        0x3fefdbfdad9cbe14,
        0x3c77893b4d91cd9d,
        0x3fefe7c1819e90d8,
        0x3c5305c14160cc89,
        0x3feff3c22b8f71f1,
    ];
}

mod log_data {
    pub(super) const LN2_HI: f64 = f64::from_bits(0x3fe62e42fefa3800);
    pub(super) const LN2_LO: f64 = f64::from_bits(0x3d2ef35793c76730);
    /// log(1 + r) for x near 1: B[0] = -0.5.
    pub(super) const B: [f64; 11] = [
        f64::from_bits(0xbfe0000000000000),
        f64::from_bits(0x3fd5555555555577),
        f64::from_bits(0xbfcffffffffffdcb),
        f64::from_bits(0x3fc999999995dd0c),
        f64::from_bits(0xbfc55555556745a7),
        f64::from_bits(0x3fc24924a344de30),
        f64::from_bits(0xbfbfffffa4423d65),
        f64::from_bits(0x3fbc7184282ad6ca),
        f64::from_bits(0xbfb999eb43b068ff),
        f64::from_bits(0x3fb78182f7afd085),
        f64::from_bits(0xbfb5521375d145cd),
    ];
    /// log(1 + r) - r for the reduced r.
    pub(super) const A: [f64; 5] = [
        f64::from_bits(0xbfe0000000000001),
        f64::from_bits(0x3fd555555551305b),
        f64::from_bits(0xbfcfffffffeb4590),
        f64::from_bits(0x3fc999b324f10111),
        f64::from_bits(0xbfc55575e506c89f),
    ];
    /// (1/c, log(c)) for each of the 128 subintervals.
    pub(super) static T: [(f64, f64); 128] = [
        (f64::from_bits(0x3ff734f0c3e0de9f), f64::from_bits(0xbfd7cc7f79e69000)),
        (f64::from_bits(0x3ff713786a2ce91f), f64::from_bits(0xbfd76feec20d0000)),
        (f64::from_bits(0x3ff6f26008fab5a0), f64::from_bits(0xbfd713e31351e000)),
        (f64::from_bits(0x3ff6d1a61f138c7d), f64::from_bits(0xbfd6b85b38287800)),
        (f64::from_bits(0x3ff6b1490bc5b4d1), f64::from_bits(0xbfd65d5590807800)),
        (f64::from_bits(0x3ff69147332f0cba), f64::from_bits(0xbfd602d076180000)),
        (f64::from_bits(0x3ff6719f18224223), f64::from_bits(0xbfd5a8ca86909000)),
        (f64::from_bits(0x3ff6524f99a51ed9), f64::from_bits(0xbfd54f4356035000)),
        (f64::from_bits(0x3ff63356aa8f24c4), f64::from_bits(0xbfd4f637c36b4000)),
        (f64::from_bits(0x3ff614b36b9ddc14), f64::from_bits(0xbfd49da7fda85000)),
        (f64::from_bits(0x3ff5f66452c65c4c), f64::from_bits(0xbfd445923989a800)),
        (f64::from_bits(0x3ff5d867b5912c4f), f64::from_bits(0xbfd3edf439b0b800)),
        (f64::from_bits(0x3ff5babccb5b90de), f64::from_bits(0xbfd396ce448f7000)),
        (f64::from_bits(0x3ff59d61f2d91a78), f64::from_bits(0xbfd3401e17bda000)),
        (f64::from_bits(0x3ff5805612465687), f64::from_bits(0xbfd2e9e2ef468000)),
        (f64::from_bits(0x3ff56397cee76bd3), f64::from_bits(0xbfd2941b3830e000)),
        (f64::from_bits(0x3ff54725e2a77f93), f64::from_bits(0xbfd23ec58cda8800)),
        (f64::from_bits(0x3ff52aff42064583), f64::from_bits(0xbfd1e9e129279000)),
        (f64::from_bits(0x3ff50f22dbb2bddf), f64::from_bits(0xbfd1956d2b48f800)),
        (f64::from_bits(0x3ff4f38f4734ded7), f64::from_bits(0xbfd141679ab9f800)),
        (f64::from_bits(0x3ff4d843cfde2840), f64::from_bits(0xbfd0edd094ef9800)),
        (f64::from_bits(0x3ff4bd3ec078a3c8), f64::from_bits(0xbfd09aa518db1000)),
        (f64::from_bits(0x3ff4a27fc3e0258a), f64::from_bits(0xbfd047e65263b800)),
        (f64::from_bits(0x3ff4880524d48434), f64::from_bits(0xbfcfeb224586f000)),
        (f64::from_bits(0x3ff46dce1b192d0b), f64::from_bits(0xbfcf474a7517b000)),
        (f64::from_bits(0x3ff453d9d3391854), f64::from_bits(0xbfcea4443d103000)),
        (f64::from_bits(0x3ff43a2744b4845a), f64::from_bits(0xbfce020d44e9b000)),
        (f64::from_bits(0x3ff420b54115f8fb), f64::from_bits(0xbfcd60a22977f000)),
        (f64::from_bits(0x3ff40782da3ef4b1), f64::from_bits(0xbfccc00104959000)),
        (f64::from_bits(0x3ff3ee8f5d57fe8f), f64::from_bits(0xbfcc202956891000)),
        (f64::from_bits(0x3ff3d5d9a00b4ce9), f64::from_bits(0xbfcb81178d811000)),
        (f64::from_bits(0x3ff3bd60c010c12b), f64::from_bits(0xbfcae2c9ccd3d000)),
        (f64::from_bits(0x3ff3a5242b75dab8), f64::from_bits(0xbfca45402e129000)),
        (f64::from_bits(0x3ff38d22cd9fd002), f64::from_bits(0xbfc9a877681df000)),
        (f64::from_bits(0x3ff3755bc5847a1c), f64::from_bits(0xbfc90c6d69483000)),
        (f64::from_bits(0x3ff35dce49ad36e2), f64::from_bits(0xbfc87120a645c000)),
        (f64::from_bits(0x3ff34679984dd440), f64::from_bits(0xbfc7d68fb4143000)),
        (f64::from_bits(0x3ff32f5cceffcb24), f64::from_bits(0xbfc73cb83c627000)),
        (f64::from_bits(0x3ff3187775a10d49), f64::from_bits(0xbfc6a39a9b376000)),
        (f64::from_bits(0x3ff301c8373e3990), f64::from_bits(0xbfc60b3154b7a000)),
        (f64::from_bits(0x3ff2eb4ebb95f841), f64::from_bits(0xbfc5737d76243000)),
        (f64::from_bits(0x3ff2d50a0219a9d1), f64::from_bits(0xbfc4dc7b8fc23000)),
        (f64::from_bits(0x3ff2bef9a8b7fd2a), f64::from_bits(0xbfc4462c51d20000)),
        (f64::from_bits(0x3ff2a91c7a0c1bab), f64::from_bits(0xbfc3b08abc830000)),
        (f64::from_bits(0x3ff293726014b530), f64::from_bits(0xbfc31b996b490000)),
        (f64::from_bits(0x3ff27dfa5757a1f5), f64::from_bits(0xbfc2875490a44000)),
        (f64::from_bits(0x3ff268b39b1d3bbf), f64::from_bits(0xbfc1f3b9f879a000)),
        (f64::from_bits(0x3ff2539d838ff5bd), f64::from_bits(0xbfc160c8252ca000)),
        (f64::from_bits(0x3ff23eb7aac9083b), f64::from_bits(0xbfc0ce7f57f72000)),
        (f64::from_bits(0x3ff22a012ba940b6), f64::from_bits(0xbfc03cdc49fea000)),
        (f64::from_bits(0x3ff2157996cc4132), f64::from_bits(0xbfbf57bdbc4b8000)),
        (f64::from_bits(0x3ff201201dd2fc9b), f64::from_bits(0xbfbe370896404000)),
        (f64::from_bits(0x3ff1ecf4494d480b), f64::from_bits(0xbfbd17983ef94000)),
        (f64::from_bits(0x3ff1d8f5528f6569), f64::from_bits(0xbfbbf9674ed8a000)),
        (f64::from_bits(0x3ff1c52311577e7c), f64::from_bits(0xbfbadc79202f6000)),
        (f64::from_bits(0x3ff1b17c74cb26e9), f64::from_bits(0xbfb9c0c3e7288000)),
        (f64::from_bits(0x3ff19e010c2c1ab6), f64::from_bits(0xbfb8a646b372c000)),
        (f64::from_bits(0x3ff18ab07bb670bd), f64::from_bits(0xbfb78d01b3ac0000)),
        (f64::from_bits(0x3ff1778a25efbcb6), f64::from_bits(0xbfb674f145380000)),
        (f64::from_bits(0x3ff1648d354c31da), f64::from_bits(0xbfb55e0e6d878000)),
        (f64::from_bits(0x3ff151b990275fdd), f64::from_bits(0xbfb4485cdea1e000)),
        (f64::from_bits(0x3ff13f0ea432d24c), f64::from_bits(0xbfb333d94d6aa000)),
        (f64::from_bits(0x3ff12c8b7210f9da), f64::from_bits(0xbfb22079f8c56000)),
        (f64::from_bits(0x3ff11a3028ecb531), f64::from_bits(0xbfb10e4698622000)),
        (f64::from_bits(0x3ff107fbda8434af), f64::from_bits(0xbfaffa6c6ad20000)),
        (f64::from_bits(0x3ff0f5ee0f4e6bb3), f64::from_bits(0xbfadda8d4a774000)),
        (f64::from_bits(0x3ff0e4065d2a9fce), f64::from_bits(0xbfabbcece4850000)),
        (f64::from_bits(0x3ff0d244632ca521), f64::from_bits(0xbfa9a1894012c000)),
        (f64::from_bits(0x3ff0c0a77ce2981a), f64::from_bits(0xbfa788583302c000)),
        (f64::from_bits(0x3ff0af2f83c636d1), f64::from_bits(0xbfa5715e67d68000)),
        (f64::from_bits(0x3ff09ddb98a01339), f64::from_bits(0xbfa35c8a49658000)),
        (f64::from_bits(0x3ff08cabaf52e7df), f64::from_bits(0xbfa149e364154000)),
        (f64::from_bits(0x3ff07b9f2f4e28fb), f64::from_bits(0xbf9e72c082eb8000)),
        (f64::from_bits(0x3ff06ab58c358f19), f64::from_bits(0xbf9a55f152528000)),
        (f64::from_bits(0x3ff059eea5ecf92c), f64::from_bits(0xbf963d62cf818000)),
        (f64::from_bits(0x3ff04949cdd12c90), f64::from_bits(0xbf9228fb8caa0000)),
        (f64::from_bits(0x3ff038c6c6f0ada9), f64::from_bits(0xbf8c317b20f90000)),
        (f64::from_bits(0x3ff02865137932a9), f64::from_bits(0xbf8419355daa0000)),
        (f64::from_bits(0x3ff0182427ea7348), f64::from_bits(0xbf781203c2ec0000)),
        (f64::from_bits(0x3ff008040614b195), f64::from_bits(0xbf60040979240000)),
        (f64::from_bits(0x3fefe01ff726fa1a), f64::from_bits(0x3f6feff384900000)),
        (f64::from_bits(0x3fefa11cc261ea74), f64::from_bits(0x3f87dc41353d0000)),
        (f64::from_bits(0x3fef6310b081992e), f64::from_bits(0x3f93cea3c4c28000)),
        (f64::from_bits(0x3fef25f63ceeadcd), f64::from_bits(0x3f9b9fc114890000)),
        (f64::from_bits(0x3feee9c8039113e7), f64::from_bits(0x3fa1b0d8ce110000)),
        (f64::from_bits(0x3feeae8078cbb1ab), f64::from_bits(0x3fa58a5bd001c000)),
        (f64::from_bits(0x3fee741aa29d0c9b), f64::from_bits(0x3fa95c8340d88000)),
        (f64::from_bits(0x3fee3a91830a99b5), f64::from_bits(0x3fad276aef578000)),
        (f64::from_bits(0x3fee01e009609a56), f64::from_bits(0x3fb07598e598c000)),
        (f64::from_bits(0x3fedca01e577bb98), f64::from_bits(0x3fb253f5e30d2000)),
        (f64::from_bits(0x3fed92f20b7c9103), f64::from_bits(0x3fb42edd8b380000)),
        (f64::from_bits(0x3fed5cac66fb5cce), f64::from_bits(0x3fb606598757c000)),
        (f64::from_bits(0x3fed272caa5ede9d), f64::from_bits(0x3fb7da76356a0000)),
        (f64::from_bits(0x3fecf26e3e6b2ccd), f64::from_bits(0x3fb9ab434e1c6000)),
        (f64::from_bits(0x3fecbe6da2a77902), f64::from_bits(0x3fbb78c7bb0d6000)),
        (f64::from_bits(0x3fec8b266d37086d), f64::from_bits(0x3fbd431332e72000)),
        (f64::from_bits(0x3fec5894bd5d5804), f64::from_bits(0x3fbf0a3171de6000)),
        (f64::from_bits(0x3fec26b533bb9f8c), f64::from_bits(0x3fc067152b914000)),
        (f64::from_bits(0x3febf583eeece73f), f64::from_bits(0x3fc147858292b000)),
        (f64::from_bits(0x3febc4fd75db96c1), f64::from_bits(0x3fc2266ecdca3000)),
        (f64::from_bits(0x3feb951e0c864a28), f64::from_bits(0x3fc303d7a6c55000)),
        (f64::from_bits(0x3feb65e2c5ef3e2c), f64::from_bits(0x3fc3dfc33c331000)),
        (f64::from_bits(0x3feb374867c9888b), f64::from_bits(0x3fc4ba366b7a8000)),
        (f64::from_bits(0x3feb094b211d304a), f64::from_bits(0x3fc5933928d1f000)),
        (f64::from_bits(0x3feadbe885f2ef7e), f64::from_bits(0x3fc66acd2418f000)),
        (f64::from_bits(0x3feaaf1d31603da2), f64::from_bits(0x3fc740f8ec669000)),
        (f64::from_bits(0x3fea82e63fd358a7), f64::from_bits(0x3fc815c0f51af000)),
        (f64::from_bits(0x3fea5740ef09738b), f64::from_bits(0x3fc8e92954f68000)),
        (f64::from_bits(0x3fea2c2a90ab4b27), f64::from_bits(0x3fc9bb3602f84000)),
        (f64::from_bits(0x3fea01a01393f2d1), f64::from_bits(0x3fca8bed1c2c0000)),
        (f64::from_bits(0x3fe9d79f24db3c1b), f64::from_bits(0x3fcb5b515c01d000)),
        (f64::from_bits(0x3fe9ae2505c7b190), f64::from_bits(0x3fcc2967ccbcc000)),
        (f64::from_bits(0x3fe9852ef297ce2f), f64::from_bits(0x3fccf635d5486000)),
        (f64::from_bits(0x3fe95cbaeea44b75), f64::from_bits(0x3fcdc1bd3446c000)),
        (f64::from_bits(0x3fe934c69de74838), f64::from_bits(0x3fce8c01b8cfe000)),
        (f64::from_bits(0x3fe90d4f2f6752e6), f64::from_bits(0x3fcf5509c0179000)),
        (f64::from_bits(0x3fe8e6528effd79d), f64::from_bits(0x3fd00e6c121fb800)),
        (f64::from_bits(0x3fe8bfce9fcc007c), f64::from_bits(0x3fd071b80e93d000)),
        (f64::from_bits(0x3fe899c0dabec30e), f64::from_bits(0x3fd0d46b9e867000)),
        (f64::from_bits(0x3fe87427aa2317fb), f64::from_bits(0x3fd13687334bd000)),
        (f64::from_bits(0x3fe84f00acb39a08), f64::from_bits(0x3fd1980d67234800)),
        (f64::from_bits(0x3fe82a49e8653e55), f64::from_bits(0x3fd1f8ffe0cc8000)),
        (f64::from_bits(0x3fe8060195f40260), f64::from_bits(0x3fd2595fd7636800)),
        (f64::from_bits(0x3fe7e22563e0a329), f64::from_bits(0x3fd2b9300914a800)),
        (f64::from_bits(0x3fe7beb377dcb5ad), f64::from_bits(0x3fd3187210436000)),
        (f64::from_bits(0x3fe79baa679725c2), f64::from_bits(0x3fd377266dec1800)),
        (f64::from_bits(0x3fe77907f2170657), f64::from_bits(0x3fd3d54ffbaf3000)),
        (f64::from_bits(0x3fe756cadbd6130c), f64::from_bits(0x3fd432eee32fe000)),
    ];
}

mod pow_log_data {
    /// log1p(r) - r, scaled as the evaluation needs: A[0] = -0.5.
    pub(super) const A: [f64; 7] = [
        f64::from_bits(0xbfe0000000000000),
        f64::from_bits(0xbfe5555555555560),
        f64::from_bits(0x3fe0000000000006),
        f64::from_bits(0x3fe999999959554e),
        f64::from_bits(0xbfe555555529a47a),
        f64::from_bits(0xbff2495b9b4845e9),
        f64::from_bits(0x3ff0002b8b263fc3),
    ];
    /// (1/c, log(c) rounded to 43 bits, the rest of log(c)).
    pub(super) static T: [(f64, f64, f64); 128] = [
        (f64::from_bits(0x3ff6a00000000000), f64::from_bits(0xbfd62c82f2b9c800), f64::from_bits(0x3cfab42428375680)),
        (f64::from_bits(0x3ff6800000000000), f64::from_bits(0xbfd5d1bdbf580800), f64::from_bits(0xbd1ca508d8e0f720)),
        (f64::from_bits(0x3ff6600000000000), f64::from_bits(0xbfd5767717455800), f64::from_bits(0xbd2362a4d5b6506d)),
        (f64::from_bits(0x3ff6400000000000), f64::from_bits(0xbfd51aad872df800), f64::from_bits(0xbce684e49eb067d5)),
        (f64::from_bits(0x3ff6200000000000), f64::from_bits(0xbfd4be5f95777800), f64::from_bits(0xbd041b6993293ee0)),
        (f64::from_bits(0x3ff6000000000000), f64::from_bits(0xbfd4618bc21c6000), f64::from_bits(0x3d13d82f484c84cc)),
        (f64::from_bits(0x3ff5e00000000000), f64::from_bits(0xbfd404308686a800), f64::from_bits(0x3cdc42f3ed820b3a)),
        (f64::from_bits(0x3ff5c00000000000), f64::from_bits(0xbfd3a64c55694800), f64::from_bits(0x3d20b1c686519460)),
        (f64::from_bits(0x3ff5a00000000000), f64::from_bits(0xbfd347dd9a988000), f64::from_bits(0x3d25594dd4c58092)),
        (f64::from_bits(0x3ff5800000000000), f64::from_bits(0xbfd2e8e2bae12000), f64::from_bits(0x3d267b1e99b72bd8)),
        (f64::from_bits(0x3ff5600000000000), f64::from_bits(0xbfd2895a13de8800), f64::from_bits(0x3d15ca14b6cfb03f)),
        (f64::from_bits(0x3ff5600000000000), f64::from_bits(0xbfd2895a13de8800), f64::from_bits(0x3d15ca14b6cfb03f)),
        (f64::from_bits(0x3ff5400000000000), f64::from_bits(0xbfd22941fbcf7800), f64::from_bits(0xbd165a242853da76)),
        (f64::from_bits(0x3ff5200000000000), f64::from_bits(0xbfd1c898c1699800), f64::from_bits(0xbd1fafbc68e75404)),
        (f64::from_bits(0x3ff5000000000000), f64::from_bits(0xbfd1675cababa800), f64::from_bits(0x3d1f1fc63382a8f0)),
        (f64::from_bits(0x3ff4e00000000000), f64::from_bits(0xbfd1058bf9ae4800), f64::from_bits(0xbd26a8c4fd055a66)),
        (f64::from_bits(0x3ff4c00000000000), f64::from_bits(0xbfd0a324e2739000), f64::from_bits(0xbd0c6bee7ef4030e)),
        (f64::from_bits(0x3ff4a00000000000), f64::from_bits(0xbfd0402594b4d000), f64::from_bits(0xbcf036b89ef42d7f)),
        (f64::from_bits(0x3ff4a00000000000), f64::from_bits(0xbfd0402594b4d000), f64::from_bits(0xbcf036b89ef42d7f)),
        (f64::from_bits(0x3ff4800000000000), f64::from_bits(0xbfcfb9186d5e4000), f64::from_bits(0x3d0d572aab993c87)),
        (f64::from_bits(0x3ff4600000000000), f64::from_bits(0xbfcef0adcbdc6000), f64::from_bits(0x3d2b26b79c86af24)),
        (f64::from_bits(0x3ff4400000000000), f64::from_bits(0xbfce27076e2af000), f64::from_bits(0xbd172f4f543fff10)),
        (f64::from_bits(0x3ff4200000000000), f64::from_bits(0xbfcd5c216b4fc000), f64::from_bits(0x3d21ba91bbca681b)),
        (f64::from_bits(0x3ff4000000000000), f64::from_bits(0xbfcc8ff7c79aa000), f64::from_bits(0x3d27794f689f8434)),
        (f64::from_bits(0x3ff4000000000000), f64::from_bits(0xbfcc8ff7c79aa000), f64::from_bits(0x3d27794f689f8434)),
        (f64::from_bits(0x3ff3e00000000000), f64::from_bits(0xbfcbc286742d9000), f64::from_bits(0x3d194eb0318bb78f)),
        (f64::from_bits(0x3ff3c00000000000), f64::from_bits(0xbfcaf3c94e80c000), f64::from_bits(0x3cba4e633fcd9066)),
        (f64::from_bits(0x3ff3a00000000000), f64::from_bits(0xbfca23bc1fe2b000), f64::from_bits(0xbd258c64dc46c1ea)),
        (f64::from_bits(0x3ff3a00000000000), f64::from_bits(0xbfca23bc1fe2b000), f64::from_bits(0xbd258c64dc46c1ea)),
        (f64::from_bits(0x3ff3800000000000), f64::from_bits(0xbfc9525a9cf45000), f64::from_bits(0xbd2ad1d904c1d4e3)),
        (f64::from_bits(0x3ff3600000000000), f64::from_bits(0xbfc87fa06520d000), f64::from_bits(0x3d2bbdbf7fdbfa09)),
        (f64::from_bits(0x3ff3400000000000), f64::from_bits(0xbfc7ab890210e000), f64::from_bits(0x3d2bdb9072534a58)),
        (f64::from_bits(0x3ff3400000000000), f64::from_bits(0xbfc7ab890210e000), f64::from_bits(0x3d2bdb9072534a58)),
        (f64::from_bits(0x3ff3200000000000), f64::from_bits(0xbfc6d60fe719d000), f64::from_bits(0xbd10e46aa3b2e266)),
        (f64::from_bits(0x3ff3000000000000), f64::from_bits(0xbfc5ff3070a79000), f64::from_bits(0xbd1e9e439f105039)),
        (f64::from_bits(0x3ff3000000000000), f64::from_bits(0xbfc5ff3070a79000), f64::from_bits(0xbd1e9e439f105039)),
        (f64::from_bits(0x3ff2e00000000000), f64::from_bits(0xbfc526e5e3a1b000), f64::from_bits(0xbd20de8b90075b8f)),
        (f64::from_bits(0x3ff2c00000000000), f64::from_bits(0xbfc44d2b6ccb8000), f64::from_bits(0x3d170cc16135783c)),
        (f64::from_bits(0x3ff2c00000000000), f64::from_bits(0xbfc44d2b6ccb8000), f64::from_bits(0x3d170cc16135783c)),
        (f64::from_bits(0x3ff2a00000000000), f64::from_bits(0xbfc371fc201e9000), f64::from_bits(0x3cf178864d27543a)),
        (f64::from_bits(0x3ff2800000000000), f64::from_bits(0xbfc29552f81ff000), f64::from_bits(0xbd248d301771c408)),
        (f64::from_bits(0x3ff2600000000000), f64::from_bits(0xbfc1b72ad52f6000), f64::from_bits(0xbd2e80a41811a396)),
        (f64::from_bits(0x3ff2600000000000), f64::from_bits(0xbfc1b72ad52f6000), f64::from_bits(0xbd2e80a41811a396)),
        (f64::from_bits(0x3ff2400000000000), f64::from_bits(0xbfc0d77e7cd09000), f64::from_bits(0x3d0a699688e85bf4)),
        (f64::from_bits(0x3ff2400000000000), f64::from_bits(0xbfc0d77e7cd09000), f64::from_bits(0x3d0a699688e85bf4)),
        (f64::from_bits(0x3ff2200000000000), f64::from_bits(0xbfbfec9131dbe000), f64::from_bits(0xbd2575545ca333f2)),
        (f64::from_bits(0x3ff2000000000000), f64::from_bits(0xbfbe27076e2b0000), f64::from_bits(0x3d2a342c2af0003c)),
        (f64::from_bits(0x3ff2000000000000), f64::from_bits(0xbfbe27076e2b0000), f64::from_bits(0x3d2a342c2af0003c)),
        (f64::from_bits(0x3ff1e00000000000), f64::from_bits(0xbfbc5e548f5bc000), f64::from_bits(0xbd1d0c57585fbe06)),
        (f64::from_bits(0x3ff1c00000000000), f64::from_bits(0xbfba926d3a4ae000), f64::from_bits(0x3d253935e85baac8)),
        (f64::from_bits(0x3ff1c00000000000), f64::from_bits(0xbfba926d3a4ae000), f64::from_bits(0x3d253935e85baac8)),
        (f64::from_bits(0x3ff1a00000000000), f64::from_bits(0xbfb8c345d631a000), f64::from_bits(0x3d137c294d2f5668)),
        (f64::from_bits(0x3ff1a00000000000), f64::from_bits(0xbfb8c345d631a000), f64::from_bits(0x3d137c294d2f5668)),
        (f64::from_bits(0x3ff1800000000000), f64::from_bits(0xbfb6f0d28ae56000), f64::from_bits(0xbd269737c93373da)),
        (f64::from_bits(0x3ff1600000000000), f64::from_bits(0xbfb51b073f062000), f64::from_bits(0x3d1f025b61c65e57)),
        (f64::from_bits(0x3ff1600000000000), f64::from_bits(0xbfb51b073f062000), f64::from_bits(0x3d1f025b61c65e57)),
        (f64::from_bits(0x3ff1400000000000), f64::from_bits(0xbfb341d7961be000), f64::from_bits(0x3d2c5edaccf913df)),
        (f64::from_bits(0x3ff1400000000000), f64::from_bits(0xbfb341d7961be000), f64::from_bits(0x3d2c5edaccf913df)),
        (f64::from_bits(0x3ff1200000000000), f64::from_bits(0xbfb16536eea38000), f64::from_bits(0x3d147c5e768fa309)),
        (f64::from_bits(0x3ff1000000000000), f64::from_bits(0xbfaf0a30c0118000), f64::from_bits(0x3d2d599e83368e91)),
        (f64::from_bits(0x3ff1000000000000), f64::from_bits(0xbfaf0a30c0118000), f64::from_bits(0x3d2d599e83368e91)),
        (f64::from_bits(0x3ff0e00000000000), f64::from_bits(0xbfab42dd71198000), f64::from_bits(0x3d1c827ae5d6704c)),
        (f64::from_bits(0x3ff0e00000000000), f64::from_bits(0xbfab42dd71198000), f64::from_bits(0x3d1c827ae5d6704c)),
        (f64::from_bits(0x3ff0c00000000000), f64::from_bits(0xbfa77458f632c000), f64::from_bits(0xbd2cfc4634f2a1ee)),
        (f64::from_bits(0x3ff0c00000000000), f64::from_bits(0xbfa77458f632c000), f64::from_bits(0xbd2cfc4634f2a1ee)),
        (f64::from_bits(0x3ff0a00000000000), f64::from_bits(0xbfa39e87b9fec000), f64::from_bits(0x3cf502b7f526feaa)),
        (f64::from_bits(0x3ff0a00000000000), f64::from_bits(0xbfa39e87b9fec000), f64::from_bits(0x3cf502b7f526feaa)),
        (f64::from_bits(0x3ff0800000000000), f64::from_bits(0xbf9f829b0e780000), f64::from_bits(0xbd2980267c7e09e4)),
        (f64::from_bits(0x3ff0800000000000), f64::from_bits(0xbf9f829b0e780000), f64::from_bits(0xbd2980267c7e09e4)),
        (f64::from_bits(0x3ff0600000000000), f64::from_bits(0xbf97b91b07d58000), f64::from_bits(0xbd288d5493faa639)),
        (f64::from_bits(0x3ff0400000000000), f64::from_bits(0xbf8fc0a8b0fc0000), f64::from_bits(0xbcdf1e7cf6d3a69c)),
        (f64::from_bits(0x3ff0400000000000), f64::from_bits(0xbf8fc0a8b0fc0000), f64::from_bits(0xbcdf1e7cf6d3a69c)),
        (f64::from_bits(0x3ff0200000000000), f64::from_bits(0xbf7fe02a6b100000), f64::from_bits(0xbd19e23f0dda40e4)),
        (f64::from_bits(0x3ff0200000000000), f64::from_bits(0xbf7fe02a6b100000), f64::from_bits(0xbd19e23f0dda40e4)),
        (f64::from_bits(0x3ff0000000000000), f64::from_bits(0x0000000000000000), f64::from_bits(0x0000000000000000)),
        (f64::from_bits(0x3ff0000000000000), f64::from_bits(0x0000000000000000), f64::from_bits(0x0000000000000000)),
        (f64::from_bits(0x3fefc00000000000), f64::from_bits(0x3f80101575890000), f64::from_bits(0xbd10c76b999d2be8)),
        (f64::from_bits(0x3fef800000000000), f64::from_bits(0x3f90205658938000), f64::from_bits(0xbd23dc5b06e2f7d2)),
        (f64::from_bits(0x3fef400000000000), f64::from_bits(0x3f98492528c90000), f64::from_bits(0xbd2aa0ba325a0c34)),
        (f64::from_bits(0x3fef000000000000), f64::from_bits(0x3fa0415d89e74000), f64::from_bits(0x3d0111c05cf1d753)),
        (f64::from_bits(0x3feec00000000000), f64::from_bits(0x3fa466aed42e0000), f64::from_bits(0xbd2c167375bdfd28)),
        (f64::from_bits(0x3fee800000000000), f64::from_bits(0x3fa894aa149fc000), f64::from_bits(0xbd197995d05a267d)),
        (f64::from_bits(0x3fee400000000000), f64::from_bits(0x3faccb73cdddc000), f64::from_bits(0xbd1a68f247d82807)),
        (f64::from_bits(0x3fee200000000000), f64::from_bits(0x3faeea31c006c000), f64::from_bits(0xbd0e113e4fc93b7b)),
        (f64::from_bits(0x3fede00000000000), f64::from_bits(0x3fb1973bd1466000), f64::from_bits(0xbd25325d560d9e9b)),
        (f64::from_bits(0x3feda00000000000), f64::from_bits(0x3fb3bdf5a7d1e000), f64::from_bits(0x3d2cc85ea5db4ed7)),
        (f64::from_bits(0x3fed600000000000), f64::from_bits(0x3fb5e95a4d97a000), f64::from_bits(0xbd2c69063c5d1d1e)),
        (f64::from_bits(0x3fed400000000000), f64::from_bits(0x3fb700d30aeac000), f64::from_bits(0x3cec1e8da99ded32)),
        (f64::from_bits(0x3fed000000000000), f64::from_bits(0x3fb9335e5d594000), f64::from_bits(0x3d23115c3abd47da)),
        (f64::from_bits(0x3fecc00000000000), f64::from_bits(0x3fbb6ac88dad6000), f64::from_bits(0xbd1390802bf768e5)),
        (f64::from_bits(0x3feca00000000000), f64::from_bits(0x3fbc885801bc4000), f64::from_bits(0x3d2646d1c65aacd3)),
        (f64::from_bits(0x3fec600000000000), f64::from_bits(0x3fbec739830a2000), f64::from_bits(0xbd2dc068afe645e0)),
        (f64::from_bits(0x3fec400000000000), f64::from_bits(0x3fbfe89139dbe000), f64::from_bits(0xbd2534d64fa10afd)),
        (f64::from_bits(0x3fec000000000000), f64::from_bits(0x3fc1178e8227e000), f64::from_bits(0x3d21ef78ce2d07f2)),
        (f64::from_bits(0x3febe00000000000), f64::from_bits(0x3fc1aa2b7e23f000), f64::from_bits(0x3d2ca78e44389934)),
        (f64::from_bits(0x3feba00000000000), f64::from_bits(0x3fc2d1610c868000), f64::from_bits(0x3d039d6ccb81b4a1)),
        (f64::from_bits(0x3feb800000000000), f64::from_bits(0x3fc365fcb0159000), f64::from_bits(0x3cc62fa8234b7289)),
        (f64::from_bits(0x3feb400000000000), f64::from_bits(0x3fc4913d8333b000), f64::from_bits(0x3d25837954fdb678)),
        (f64::from_bits(0x3feb200000000000), f64::from_bits(0x3fc527e5e4a1b000), f64::from_bits(0x3d2633e8e5697dc7)),
        (f64::from_bits(0x3feae00000000000), f64::from_bits(0x3fc6574ebe8c1000), f64::from_bits(0x3d19cf8b2c3c2e78)),
        (f64::from_bits(0x3feac00000000000), f64::from_bits(0x3fc6f0128b757000), f64::from_bits(0xbd25118de59c21e1)),
        (f64::from_bits(0x3feaa00000000000), f64::from_bits(0x3fc7898d85445000), f64::from_bits(0xbd1c661070914305)),
        (f64::from_bits(0x3fea600000000000), f64::from_bits(0x3fc8beafeb390000), f64::from_bits(0xbd073d54aae92cd1)),
        (f64::from_bits(0x3fea400000000000), f64::from_bits(0x3fc95a5adcf70000), f64::from_bits(0x3d07f22858a0ff6f)),
        (f64::from_bits(0x3fea000000000000), f64::from_bits(0x3fca93ed3c8ae000), f64::from_bits(0xbd28724350562169)),
        (f64::from_bits(0x3fe9e00000000000), f64::from_bits(0x3fcb31d8575bd000), f64::from_bits(0xbd0c358d4eace1aa)),
        (f64::from_bits(0x3fe9c00000000000), f64::from_bits(0x3fcbd087383be000), f64::from_bits(0xbd2d4bc4595412b6)),
        (f64::from_bits(0x3fe9a00000000000), f64::from_bits(0x3fcc6ffbc6f01000), f64::from_bits(0xbcf1ec72c5962bd2)),
        (f64::from_bits(0x3fe9600000000000), f64::from_bits(0x3fcdb13db0d49000), f64::from_bits(0xbd2aff2af715b035)),
        (f64::from_bits(0x3fe9400000000000), f64::from_bits(0x3fce530effe71000), f64::from_bits(0x3cc212276041f430)),
        (f64::from_bits(0x3fe9200000000000), f64::from_bits(0x3fcef5ade4dd0000), f64::from_bits(0xbcca211565bb8e11)),
        (f64::from_bits(0x3fe9000000000000), f64::from_bits(0x3fcf991c6cb3b000), f64::from_bits(0x3d1bcbecca0cdf30)),
        (f64::from_bits(0x3fe8c00000000000), f64::from_bits(0x3fd07138604d5800), f64::from_bits(0x3cf89cdb16ed4e91)),
        (f64::from_bits(0x3fe8a00000000000), f64::from_bits(0x3fd0c42d67616000), f64::from_bits(0x3d27188b163ceae9)),
        (f64::from_bits(0x3fe8800000000000), f64::from_bits(0x3fd1178e8227e800), f64::from_bits(0xbd2c210e63a5f01c)),
        (f64::from_bits(0x3fe8600000000000), f64::from_bits(0x3fd16b5ccbacf800), f64::from_bits(0x3d2b9acdf7a51681)),
        (f64::from_bits(0x3fe8400000000000), f64::from_bits(0x3fd1bf99635a6800), f64::from_bits(0x3d2ca6ed5147bdb7)),
        (f64::from_bits(0x3fe8200000000000), f64::from_bits(0x3fd214456d0eb800), f64::from_bits(0x3d0a87deba46baea)),
        (f64::from_bits(0x3fe7e00000000000), f64::from_bits(0x3fd2bef07cdc9000), f64::from_bits(0x3d2a9cfa4a5004f4)),
        (f64::from_bits(0x3fe7c00000000000), f64::from_bits(0x3fd314f1e1d36000), f64::from_bits(0xbd28e27ad3213cb8)),
        (f64::from_bits(0x3fe7a00000000000), f64::from_bits(0x3fd36b6776be1000), f64::from_bits(0x3d116ecdb0f177c8)),
        (f64::from_bits(0x3fe7800000000000), f64::from_bits(0x3fd3c25277333000), f64::from_bits(0x3d183b54b606bd5c)),
        (f64::from_bits(0x3fe7600000000000), f64::from_bits(0x3fd419b423d5e800), f64::from_bits(0x3d08e436ec90e09d)),
        (f64::from_bits(0x3fe7400000000000), f64::from_bits(0x3fd4718dc271c800), f64::from_bits(0xbd2f27ce0967d675)),
        (f64::from_bits(0x3fe7200000000000), f64::from_bits(0x3fd4c9e09e173000), f64::from_bits(0xbd2e20891b0ad8a4)),
        (f64::from_bits(0x3fe7000000000000), f64::from_bits(0x3fd522ae0738a000), f64::from_bits(0x3d2ebe708164c759)),
        (f64::from_bits(0x3fe6e00000000000), f64::from_bits(0x3fd57bf753c8d000), f64::from_bits(0x3d1fadedee5d40ef)),
        (f64::from_bits(0x3fe6c00000000000), f64::from_bits(0x3fd5d5bddf596000), f64::from_bits(0xbd0a0b2a08a465dc)),
    ];
}

mod log2_data {
    pub(super) const INV_LN2_HI: f64 = f64::from_bits(0x3ff7154765200000);
    pub(super) const INV_LN2_LO: f64 = f64::from_bits(0x3de705fc2eefa200);
    /// log2(1 + r) - r/ln2 near 1, over r^2.
    pub(super) const B: [f64; 10] = [
        f64::from_bits(0xbfe71547652b82fe),
        f64::from_bits(0x3fdec709dc3a03f7),
        f64::from_bits(0xbfd71547652b7c3f),
        f64::from_bits(0x3fd2776c50f05be4),
        f64::from_bits(0xbfcec709dd768fe5),
        f64::from_bits(0x3fca61761ec4e736),
        f64::from_bits(0xbfc7153fbc64a79b),
        f64::from_bits(0x3fc484d154f01b4a),
        f64::from_bits(0xbfc289e4a72c383c),
        f64::from_bits(0x3fc0b32f285aee66),
    ];
    /// log2(1 + r) - r/ln2 for the reduced r, over r^2.
    pub(super) const A: [f64; 6] = [
        f64::from_bits(0xbfe71547652b8339),
        f64::from_bits(0x3fdec709dc3a04be),
        f64::from_bits(0xbfd7154764702ffb),
        f64::from_bits(0x3fd2776c50034c48),
        f64::from_bits(0xbfcec7b328ea92bc),
        f64::from_bits(0x3fca6225e117f92e),
    ];
    /// (1/c, log2(c)) for each of the 64 subintervals.
    pub(super) static T: [(f64, f64); 64] = [
        (f64::from_bits(0x3ff724286bb1acf8), f64::from_bits(0xbfe1095feecdb000)),
        (f64::from_bits(0x3ff6e1f766d2cca1), f64::from_bits(0xbfe08494bd76d000)),
        (f64::from_bits(0x3ff6a13d0e30d48a), f64::from_bits(0xbfe00143aee8f800)),
        (f64::from_bits(0x3ff661ec32d06c85), f64::from_bits(0xbfdefec5360b4000)),
        (f64::from_bits(0x3ff623fa951198f8), f64::from_bits(0xbfddfdd91ab7e000)),
        (f64::from_bits(0x3ff5e75ba4cf026c), f64::from_bits(0xbfdcffae0cc79000)),
        (f64::from_bits(0x3ff5ac055a214fb8), f64::from_bits(0xbfdc043811fda000)),
        (f64::from_bits(0x3ff571ed0f166e1e), f64::from_bits(0xbfdb0b67323ae000)),
        (f64::from_bits(0x3ff53909590bf835), f64::from_bits(0xbfda152f5a2db000)),
        (f64::from_bits(0x3ff5014fed61addd), f64::from_bits(0xbfd9217f5af86000)),
        (f64::from_bits(0x3ff4cab88e487bd0), f64::from_bits(0xbfd8304db0719000)),
        (f64::from_bits(0x3ff49539b4334fee), f64::from_bits(0xbfd74189f9a9e000)),
        (f64::from_bits(0x3ff460cbdfafd569), f64::from_bits(0xbfd6552bb5199000)),
        (f64::from_bits(0x3ff42d664ee4b953), f64::from_bits(0xbfd56b23a29b1000)),
        (f64::from_bits(0x3ff3fb01111dd8a6), f64::from_bits(0xbfd483650f5fa000)),
        (f64::from_bits(0x3ff3c995b70c5836), f64::from_bits(0xbfd39de937f6a000)),
        (f64::from_bits(0x3ff3991c4ab6fd4a), f64::from_bits(0xbfd2baa1538d6000)),
        (f64::from_bits(0x3ff3698e0ce099b5), f64::from_bits(0xbfd1d98340ca4000)),
        (f64::from_bits(0x3ff33ae48213e7b2), f64::from_bits(0xbfd0fa853a40e000)),
        (f64::from_bits(0x3ff30d191985bdb1), f64::from_bits(0xbfd01d9c32e73000)),
        (f64::from_bits(0x3ff2e025cab271d7), f64::from_bits(0xbfce857da2fa6000)),
        (f64::from_bits(0x3ff2b404cf13cd82), f64::from_bits(0xbfccd3c8633d8000)),
        (f64::from_bits(0x3ff288b02c7ccb50), f64::from_bits(0xbfcb26034c14a000)),
        (f64::from_bits(0x3ff25e2263944de5), f64::from_bits(0xbfc97c1c2f4fe000)),
        (f64::from_bits(0x3ff234563d8615b1), f64::from_bits(0xbfc7d6023f800000)),
        (f64::from_bits(0x3ff20b46e33eaf38), f64::from_bits(0xbfc633a71a05e000)),
        (f64::from_bits(0x3ff1e2eefdcda3dd), f64::from_bits(0xbfc494f5e9570000)),
        (f64::from_bits(0x3ff1bb4a580b3930), f64::from_bits(0xbfc2f9e424e0a000)),
        (f64::from_bits(0x3ff19453847f2200), f64::from_bits(0xbfc162595afdc000)),
        (f64::from_bits(0x3ff16e06c0d5d73c), f64::from_bits(0xbfbf9c9a75bd8000)),
        (f64::from_bits(0x3ff1485f47b7e4c2), f64::from_bits(0xbfbc7b575bf9c000)),
        (f64::from_bits(0x3ff12358ad0085d1), f64::from_bits(0xbfb960c60ff48000)),
        (f64::from_bits(0x3ff0fef00f532227), f64::from_bits(0xbfb64ce247b60000)),
        (f64::from_bits(0x3ff0db2077d03a8f), f64::from_bits(0xbfb33f78b2014000)),
        (f64::from_bits(0x3ff0b7e6d65980d9), f64::from_bits(0xbfb0387d1a42c000)),
        (f64::from_bits(0x3ff0953efe7b408d), f64::from_bits(0xbfaa6f9208b50000)),
        (f64::from_bits(0x3ff07325cac53b83), f64::from_bits(0xbfa47a954f770000)),
        (f64::from_bits(0x3ff05197e40d1b5c), f64::from_bits(0xbf9d23a8c50c0000)),
        (f64::from_bits(0x3ff03091c1208ea2), f64::from_bits(0xbf916a2629780000)),
        (f64::from_bits(0x3ff0101025b37e21), f64::from_bits(0xbf7720f8d8e80000)),
        (f64::from_bits(0x3fefc07ef9caa76b), f64::from_bits(0x3f86fe53b1500000)),
        (f64::from_bits(0x3fef4465d3f6f184), f64::from_bits(0x3fa11ccce10f8000)),
        (f64::from_bits(0x3feecc079f84107f), f64::from_bits(0x3fac4dfc8c8b8000)),
        (f64::from_bits(0x3fee573a99975ae8), f64::from_bits(0x3fb3aa321e574000)),
        (f64::from_bits(0x3fede5d6f0bd3de6), f64::from_bits(0x3fb918a0d08b8000)),
        (f64::from_bits(0x3fed77b681ff38b3), f64::from_bits(0x3fbe72e9da044000)),
        (f64::from_bits(0x3fed0cb5724de943), f64::from_bits(0x3fc1dcd2507f6000)),
        (f64::from_bits(0x3feca4b2dc0e7563), f64::from_bits(0x3fc476ab03dea000)),
        (f64::from_bits(0x3fec3f8ee8d6cb51), f64::from_bits(0x3fc7074377e22000)),
        (f64::from_bits(0x3febdd2b4f020c4c), f64::from_bits(0x3fc98ede8ba94000)),
        (f64::from_bits(0x3feb7d6c006015ca), f64::from_bits(0x3fcc0db86ad2e000)),
        (f64::from_bits(0x3feb20366e2e338f), f64::from_bits(0x3fce840aafcee000)),
        (f64::from_bits(0x3feac57026295039), f64::from_bits(0x3fd0790ab4678000)),
        (f64::from_bits(0x3fea6d01bc2731dd), f64::from_bits(0x3fd1ac056801c000)),
        (f64::from_bits(0x3fea16d3bc3ff18b), f64::from_bits(0x3fd2db11d4fee000)),
        (f64::from_bits(0x3fe9c2d14967fead), f64::from_bits(0x3fd406464ec58000)),
        (f64::from_bits(0x3fe970e4f47c9902), f64::from_bits(0x3fd52dbe093af000)),
        (f64::from_bits(0x3fe920fb3982bcf2), f64::from_bits(0x3fd651902050d000)),
        (f64::from_bits(0x3fe8d30187f759f1), f64::from_bits(0x3fd771d2cdeaf000)),
        (f64::from_bits(0x3fe886e5ebb9f66d), f64::from_bits(0x3fd88e9c857d9000)),
        (f64::from_bits(0x3fe83c97b658b994), f64::from_bits(0x3fd9a80155e16000)),
        (f64::from_bits(0x3fe7f405ffc61022), f64::from_bits(0x3fdabe186ed3d000)),
        (f64::from_bits(0x3fe7ad22181415ca), f64::from_bits(0x3fdbd0f2aea0e000)),
        (f64::from_bits(0x3fe767dcf99eff8c), f64::from_bits(0x3fdce0a43dbf4000)),
    ];
}

/// The top 12 bits of `x` (sign and exponent).
fn top12(x: f64) -> u32 {
    (x.to_bits() >> 52) as u32
}

/// e to the `x`, as glibc computes it (math/exp.c: 2^(k/128) from a table
/// times a degree-5 polynomial of the reduced argument).
pub(crate) fn exp(x: f64) -> f64 {
    if x.is_infinite() || x.is_nan() {
        return if x == f64::NEG_INFINITY { 0.0 } else { 1.0 + x };
    }
    exp_inline(x, 0.0, 0)
}

/// `exp(x + xtail)` with the sign `sign_bias` gives (`SIGN_BIAS` or 0),
/// for a finite `x` (math/exp.c's and math/pow.c's `exp_inline`).
fn exp_inline(x: f64, xtail: f64, sign_bias: u64) -> f64 {
    use exp_data::{C, INV_LN2_N, NEG_LN2_HI_N, NEG_LN2_LO_N, SHIFT, T};
    const TINY: u32 = 0x3c9; // top12(2^-54)
    let signed = |v: f64| if sign_bias != 0 { -v } else { v };
    let mut abstop = top12(x) & 0x7ff;
    if abstop.wrapping_sub(TINY) >= 0x408 - TINY {
        if abstop.wrapping_sub(TINY) >= 0x8000_0000 {
            // |x| < 2^-54 (0 is common).
            return signed(1.0 + x);
        }
        if abstop >= 0x409 {
            // |x| >= 1024: an overflow or an underflow.
            return signed(if x.is_sign_negative() { 0.0 } else { f64::INFINITY });
        }
        // 512 <= |x| < 1024: the result's scale needs care (`special`).
        abstop = 0;
    }
    // exp(x) = 2^(k/N) * exp(r), x = ln2/N * k + r, |r| <= ln2/2N.
    let z = INV_LN2_N * x;
    let mut kd = z + SHIFT;
    let ki = kd.to_bits();
    kd -= SHIFT;
    let r = kd.mul_add(NEG_LN2_LO_N, kd.mul_add(NEG_LN2_HI_N, x)) + xtail;
    let idx = 2 * (ki % 128) as usize;
    let top = ki.wrapping_add(sign_bias) << 45;
    let tail = f64::from_bits(T[idx]);
    let sbits = T[idx + 1].wrapping_add(top);
    let r2 = r * r;
    let tmp = (r2 * r2).mul_add(r.mul_add(C[3], C[2]), r2.mul_add(r.mul_add(C[1], C[0]), tail + r));
    if abstop == 0 {
        return special(tmp, sbits, ki);
    }
    let scale = f64::from_bits(sbits);
    scale.mul_add(tmp, scale)
}

/// `scale * (1 + tmp)` where the scale's exponent may have overflowed or
/// the result is subnormal (the scale carries the result's sign).
fn special(tmp: f64, sbits: u64, ki: u64) -> f64 {
    if ki & 0x8000_0000 == 0 {
        let scale = f64::from_bits(sbits.wrapping_sub(1009 << 52));
        return scale.mul_add(tmp, scale) * f64::from_bits(0x7f00_0000_0000_0000);
        // * 2^1009
    }
    let sbits = sbits.wrapping_add(1022 << 52);
    let scale = f64::from_bits(sbits);
    // `scale * tmp` is used twice here, so GCC does not fuse it.
    let product = scale * tmp;
    let mut y = scale + product;
    if y.abs() < 1.0 {
        // Rounded once before the scaling into the subnormal range.
        let one = if y < 0.0 { -1.0 } else { 1.0 };
        let mut lo = scale - y + product;
        let hi = one + y;
        lo += one - hi + y;
        y = (hi + lo) - one;
        if y == 0.0 {
            y = f64::from_bits(sbits & 0x8000_0000_0000_0000);
        }
    }
    f64::from_bits(0x0010_0000_0000_0000) * y // 2^-1022 *
}

/// For `log` and `log2`: `x`'s bits, a subnormal's normalised (its
/// exponent below the normal range's), or the result itself for zero
/// (minus infinity), infinity, NaN and negative `x` (NaN).
fn log_argument(x: f64) -> Result<u64, f64> {
    let ix = x.to_bits();
    let top = (ix >> 48) as u32;
    if top.wrapping_sub(0x0010) < 0x7ff0 - 0x0010 {
        return Ok(ix);
    }
    if ix << 1 == 0 {
        return Err(f64::NEG_INFINITY);
    }
    if ix == f64::INFINITY.to_bits() {
        return Err(x);
    }
    if (top & 0x8000) != 0 || (top & 0x7ff0) == 0x7ff0 {
        return Err(f64::NAN);
    }
    Ok((x * f64::from_bits(0x4330_0000_0000_0000)).to_bits().wrapping_sub(52 << 52))
    // 2^52 x, exponent - 52
}

/// The logarithms' reduction: x = 2^k z with z in [off, 2 off), and z's
/// subinterval among the table's 2^`bits`, for the bits `ix` of x.
/// Returns (the subinterval, k, z).
fn reduce(ix: u64, off: u64, bits: u32) -> (usize, f64, f64) {
    let tmp = ix.wrapping_sub(off);
    let i = ((tmp >> (52 - bits)) % (1 << bits)) as usize;
    let k = (tmp as i64) >> 52;
    (i, k as f64, f64::from_bits(ix.wrapping_sub(tmp & (0xfff << 52))))
}

/// The natural logarithm of `x`, as glibc computes it (math/log.c: a
/// polynomial near 1, else log(c) from a table plus a polynomial of
/// z/c - 1). Negative and NaN arguments give NaN, 0 minus infinity.
pub(crate) fn log(x: f64) -> f64 {
    use log_data::{A, B, LN2_HI, LN2_LO, T};
    let ix = x.to_bits();
    const LO: u64 = 0x3fee_0000_0000_0000; // 1 - 2^-4
    const HI: u64 = 0x3ff1_0900_0000_0000; // 1 + 0x1.09p-4
    if ix.wrapping_sub(LO) < HI - LO {
        if ix == 1f64.to_bits() {
            return 0.0;
        }
        let r = x - 1.0;
        let r2 = r * r;
        let r3 = r * r2;
        let c1 = B[3].mul_add(r2, B[2].mul_add(r, B[1]));
        let c2 = B[6].mul_add(r2, B[5].mul_add(r, B[4]));
        let c3 = B[10].mul_add(r3, B[9].mul_add(r2, B[8].mul_add(r, B[7])));
        let c = c3.mul_add(r3, c2).mul_add(r3, c1);
        let two27 = f64::from_bits(0x41a0_0000_0000_0000); // 2^27
        let rhi = (-r).mul_add(two27, r.mul_add(two27, r));
        let rlo = r - rhi;
        let rhi2 = rhi * rhi;
        let hi = rhi2.mul_add(B[0], r);
        let lo = (B[0] * rlo).mul_add(r + rhi, rhi2.mul_add(B[0], r - hi));
        return hi + c.mul_add(r3, lo);
    }
    let ix = match log_argument(x) {
        Ok(ix) => ix,
        Err(result) => return result,
    };
    let (i, kd, z) = reduce(ix, 0x3fe6_0000_0000_0000, 7);
    let (invc, logc) = T[i];
    let r = z.mul_add(invc, -1.0);
    let w = kd.mul_add(LN2_HI, logc);
    let hi = w + r;
    let lo = kd.mul_add(LN2_LO, w - hi + r);
    let r2 = r * r;
    let p = r2.mul_add(r.mul_add(A[4], A[3]), r.mul_add(A[2], A[1]));
    (r * r2).mul_add(p, r2.mul_add(A[0], lo)) + hi
}

/// The base-2 logarithm of `x`, as glibc computes it (math/log2.c: a
/// polynomial near 1, else log2(c) from a table plus r/ln2 and a polynomial
/// of r = z/c - 1).
pub(crate) fn log2(x: f64) -> f64 {
    use log2_data::{A, B, INV_LN2_HI, INV_LN2_LO, T};
    let ix = x.to_bits();
    const LO: u64 = 0x3fee_a4af_0000_0000; // 1 - 0x1.5b51p-5
    const HI: u64 = 0x3ff0_b559_0000_0000; // 1 + 0x1.6ab2p-5
    if ix.wrapping_sub(LO) < HI - LO {
        if ix == 1f64.to_bits() {
            return 0.0;
        }
        let r = x - 1.0;
        let hi = r * INV_LN2_HI;
        let mut lo = r.mul_add(INV_LN2_LO, r.mul_add(INV_LN2_HI, -hi));
        let r2 = r * r;
        let r4 = r2 * r2;
        let q = r.mul_add(B[1], B[0]);
        let y = r2.mul_add(q, hi);
        lo += r2.mul_add(q, hi - y);
        let p1 = r2.mul_add(r.mul_add(B[5], B[4]), r.mul_add(B[3], B[2]));
        let p2 = r2.mul_add(r.mul_add(B[9], B[8]), r.mul_add(B[7], B[6]));
        lo = r4.mul_add(r4.mul_add(p2, p1), lo);
        return y + lo;
    }
    let ix = match log_argument(x) {
        Ok(ix) => ix,
        Err(result) => return result,
    };
    let (i, kd, z) = reduce(ix, 0x3fe6_0000_0000_0000, 6);
    let (invc, logc) = T[i];
    let r = z.mul_add(invc, -1.0);
    let t1 = r * INV_LN2_HI;
    let t2 = r.mul_add(INV_LN2_LO, r.mul_add(INV_LN2_HI, -t1));
    let t3 = kd + logc;
    let hi = t3 + t1;
    let lo = t3 - hi + t1 + t2;
    let r2 = r * r;
    let r4 = r2 * r2;
    let p = r4.mul_add(r.mul_add(A[5], A[4]), r2.mul_add(r.mul_add(A[3], A[2]), r.mul_add(A[1], A[0])));
    r2.mul_add(p, lo) + hi
}

/// The base-10 logarithm of `x`, as glibc computes it (its
/// sysdeps/ieee754/dbl-64/e_log10.c, fdlibm's: log10(2) * k + log(m) / ln 10
/// for x = 2^k m, with m in [1, 2) for k >= 0 and in [0.5, 1) below).
pub(crate) fn log10(x: f64) -> f64 {
    const TWO54: f64 = 18_014_398_509_481_984.0;
    const IVLN10: f64 = f64::from_bits(0x3fdb_cb7b_1526_e50e);
    const LOG10_2HI: f64 = f64::from_bits(0x3fd3_4413_509f_6000);
    const LOG10_2LO: f64 = f64::from_bits(0x3d59_fef3_11f1_2b36);
    let mut x = x;
    let mut hx = (x.to_bits() >> 32) as i32;
    let mut k: i32 = 0;
    if hx < 0x0010_0000 {
        if x.to_bits() << 1 == 0 {
            return f64::NEG_INFINITY;
        }
        if hx < 0 {
            return f64::NAN;
        }
        // Subnormal: scaled up.
        k -= 54;
        x *= TWO54;
        hx = (x.to_bits() >> 32) as i32;
    }
    if hx >= 0x7ff0_0000 {
        return x + x;
    }
    k += (hx >> 20) - 1023;
    let i = ((k as u32) & 0x8000_0000) >> 31;
    hx = (hx & 0x000f_ffff) | (((0x3ff - i) as i32) << 20);
    let y = f64::from(k + i as i32);
    let m = f64::from_bits((u64::from(hx as u32) << 32) | (x.to_bits() & 0xffff_ffff));
    let z = y.mul_add(LOG10_2LO, IVLN10 * log(m));
    y.mul_add(LOG10_2HI, z)
}

/// The sign a negative base with an odd integer exponent gives the result
/// (in the scale's exponent bits, as `exp_inline` adds it).
const SIGN_BIAS: u64 = 0x800 << 7;

/// 0 if `iy` (a non-zero finite double's bits) is no integer, 1 if an odd
/// one, 2 if an even one.
fn checkint(iy: u64) -> u32 {
    let e = (iy >> 52 & 0x7ff) as i32;
    if e < 0x3ff {
        return 0;
    }
    if e > 0x3ff + 52 {
        return 2;
    }
    if iy & ((1 << (0x3ff + 52 - e)) - 1) != 0 {
        return 0;
    }
    if iy & (1 << (0x3ff + 52 - e)) != 0 {
        return 1;
    }
    2
}

/// Whether `i` is the bits of a zero, an infinity or a NaN.
fn zeroinfnan(i: u64) -> bool {
    (i << 1).wrapping_sub(1) >= (f64::INFINITY.to_bits() << 1) - 1
}

/// `x` to the `y`, as glibc computes it (math/pow.c: log(x) to about 68
/// bits as `hi + lo`, then exp(y * (hi + lo))). Python's float `**` checks
/// its own domain errors first (ops.rs).
pub(crate) fn pow(x: f64, y: f64) -> f64 {
    let mut sign_bias = 0;
    let mut ix = x.to_bits();
    let iy = y.to_bits();
    let mut topx = top12(x);
    let topy = top12(y);
    let one = 1f64.to_bits();
    if topx.wrapping_sub(0x001) >= 0x7ff - 0x001 || (topy & 0x7ff).wrapping_sub(0x3be) >= 0x43e - 0x3be {
        // x is tiny, infinite or NaN, or |y| is below 2^-65 or above 2^63, or NaN.
        if zeroinfnan(iy) {
            if iy << 1 == 0 || ix == one {
                return 1.0;
            }
            let inf2 = f64::INFINITY.to_bits() << 1;
            if ix << 1 > inf2 || iy << 1 > inf2 {
                return x + y;
            }
            if ix << 1 == one << 1 {
                return 1.0;
            }
            if (ix << 1 < one << 1) == (iy >> 63 == 0) {
                return 0.0;
            }
            return y * y;
        }
        if zeroinfnan(ix) {
            let mut x2 = x * x;
            if ix >> 63 != 0 && checkint(iy) == 1 {
                x2 = -x2;
            }
            return if iy >> 63 != 0 { 1.0 / x2 } else { x2 };
        }
        if ix >> 63 != 0 {
            // A negative base: an integer exponent only.
            match checkint(iy) {
                0 => return f64::NAN,
                1 => sign_bias = SIGN_BIAS,
                _ => {}
            }
            ix &= 0x7fff_ffff_ffff_ffff;
            topx &= 0x7ff;
        }
        if (topy & 0x7ff).wrapping_sub(0x3be) >= 0x43e - 0x3be {
            if ix == one {
                return 1.0;
            }
            if (topy & 0x7ff) < 0x3be {
                // |y| < 2^-65: x^y ~= 1 + y*log(x).
                return if ix > one { 1.0 + y } else { 1.0 - y };
            }
            return if (ix > one) == (topy < 0x800) { f64::INFINITY } else { 0.0 };
        }
        if topx == 0 {
            // Subnormal x, normalised with a negative exponent.
            ix = (x * f64::from_bits(0x4330_0000_0000_0000)).to_bits() & 0x7fff_ffff_ffff_ffff;
            ix = ix.wrapping_sub(52 << 52);
        }
    }
    let (hi, lo) = pow_log(ix);
    let ehi = y * hi;
    let elo = y.mul_add(lo, y.mul_add(hi, -ehi));
    exp_inline(ehi, elo, sign_bias)
}

/// log(x) for pow, as `hi + lo` (math/pow.c's `log_inline`); `ix` is x's
/// bits, normalised.
fn pow_log(ix: u64) -> (f64, f64) {
    use pow_log_data::{A, T};
    let (i, kd, z) = reduce(ix, 0x3fe6_9555_0000_0000, 7);
    let (invc, logc, logctail) = T[i];
    let r = z.mul_add(invc, -1.0);
    // k*ln2 + log(c) + r, with what rounding drops kept in lo1..lo4.
    let t1 = kd.mul_add(log_data::LN2_HI, logc);
    let t2 = t1 + r;
    let lo1 = kd.mul_add(log_data::LN2_LO, logctail);
    let lo2 = t1 - t2 + r;
    let ar = A[0] * r;
    let ar2 = r * ar;
    let ar3 = r * ar2;
    let hi = t2 + ar2;
    let lo3 = ar.mul_add(r, -ar2);
    let lo4 = t2 - hi + ar2;
    let q = ar2.mul_add(r.mul_add(A[6], A[5]), r.mul_add(A[4], A[3]));
    let q = ar2.mul_add(q, r.mul_add(A[2], A[1]));
    let lo = ar3.mul_add(q, lo1 + lo2 + lo3 + lo4);
    let y = hi + lo;
    (y, hi - y + lo)
}

#[cfg(all(test, target_arch = "x86_64"))]
mod tests {
    /// Arguments across each function's ranges, from a fixed xorshift.
    fn arguments(n: usize, pick: impl Fn(usize, u64, f64) -> f64) -> impl Iterator<Item = f64> {
        let mut s: u64 = 0x9e37_79b9_7f4a_7c15;
        (0..n).map(move |i| {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            pick(i, s, (s >> 11) as f64 / (1u64 << 53) as f64)
        })
    }

    fn same(a: f64, b: f64) -> bool {
        a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan())
    }

    /// Asserts `ours` gives glibc's result, to the bit, for each of `xs`.
    fn agrees(name: &str, ours: fn(f64) -> f64, glibc: fn(f64) -> f64, xs: impl Iterator<Item = f64>) {
        for x in xs {
            let (a, b) = (ours(x), glibc(x));
            assert!(same(a, b), "{name}({x:e}): {a} against glibc's {b}");
        }
    }

    /// A logarithm's arguments: small ones, ones in `near_one` (its own
    /// branch there), any positive double, tiny ones, and the edges.
    fn logarithm_arguments(near_one: (f64, f64)) -> impl Iterator<Item = f64> {
        let (from, width) = near_one;
        arguments(300_000, move |i, bits, u| match i % 4 {
            0 => u * 100.0,
            1 => from + u * width,
            2 => f64::from_bits(bits >> 1),
            _ => u * 1e-300,
        })
        .chain([
            0.0,
            -0.0,
            1.0,
            2.0,
            10.0,
            1e22,
            5e-324,
            f64::MIN_POSITIVE,
            f64::MAX,
            f64::INFINITY,
            -1.0,
            f64::NAN,
        ])
    }

    /// Natively `f64::exp`, `ln`, `log2`, `log10` and `powf` are glibc's,
    /// which CPython calls. glibc picks its FMA build on a CPU that has FMA,
    /// as this machine's; on one without, its results differ in rare last
    /// places (not checked).
    #[test]
    fn exp_logs_and_pow_are_glibcs_to_the_last_bit() {
        if !std::arch::is_x86_feature_detected!("fma") {
            return;
        }
        let exps = arguments(400_000, |i, bits, u| match i % 4 {
            0 => u * 20.0 - 10.0,
            1 => u * 1420.0 - 750.0,
            2 => u * 2.0 - 1.0,
            _ => f64::from_bits(bits),
        });
        let edges = [0.0, -0.0, 1.0, 709.78, 709.79, -745.1, -745.2, f64::INFINITY, f64::NEG_INFINITY];
        agrees("exp", super::exp, f64::exp, exps.chain(edges));
        agrees("log", super::log, f64::ln, logarithm_arguments((0.9, 0.2)));
        agrees("log2", super::log2, f64::log2, logarithm_arguments((0.94, 0.12)));
        agrees("log10", super::log10, f64::log10, logarithm_arguments((0.9, 0.2)));
        let ys: Vec<f64> = arguments(300_000, |i, bits, u| match i % 5 {
            0 => u * 20.0 - 10.0,
            1 => (u * 200.0 - 100.0).round(),
            2 => u * 2000.0 - 1000.0,
            3 => u * 100.0 - 50.0,
            _ => f64::from_bits(bits.rotate_left(17)),
        })
        .collect();
        let xs = arguments(300_000, |i, bits, u| match i % 5 {
            0 => u * 10.0,
            1 => -u * 10.0,
            2 => 0.9 + u * 0.2,
            3 => u * 1e6,
            _ => f64::from_bits(bits >> 1),
        });
        let edges = [
            (0.0, -1.0),
            (-0.0, 3.0),
            (-2.0, 0.5),
            (-8.0, 3.0),
            (1.0, f64::NAN),
            (f64::NAN, 0.0),
            (2.0, 1024.0),
            (2.0, -1075.0),
            (-1.0, f64::INFINITY),
            (0.5, f64::NEG_INFINITY),
            (5e-324, 0.5),
        ];
        for (x, y) in xs.zip(ys).chain(edges) {
            assert!(
                same(super::pow(x, y), x.powf(y)),
                "pow({x:e}, {y:e}): {} against glibc's {}",
                super::pow(x, y),
                x.powf(y)
            );
        }
    }
}
