fn main() {
    println!("qbo-sandbox: under construction");
}
